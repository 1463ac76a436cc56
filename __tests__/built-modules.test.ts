import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The built modules, each loaded in a node process of its own (`npm run build` first; `npm test`
 * builds before jest): what loading one pulls in, and whether it keeps its process alive.
 */

const BUILT = resolve(__dirname, '..', 'dist', 'lib');

function built(path: string): string {
  const file = resolve(BUILT, path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` does).`);
  return file;
}

test('loading /crypto\'s public-key module pulls in nothing from node_modules, sshpk included (it runs on the request path)', () => {
  const script =
    `require(${JSON.stringify(built('crypto/public-key.js'))});` +
    'console.log(Object.keys(require.cache).filter((path) => /node_modules/.test(path)).join("\\n"))';
  expect(execFileSync(process.execPath, ['-e', script]).toString().trim()).toBe('');
});

test("MemoryStore's expiry sweep does not keep the process alive", () => {
  const script = `
    const { MemoryStore } = require(${JSON.stringify(built('index.js'))});
    const store = new MemoryStore();
    store.set('i-1', 'value', 3600000).then(() => console.log('stored'));
  `;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
  expect(child.stdout.trim()).toBe('stored');
  expect(child.status).toBe(0);
});
