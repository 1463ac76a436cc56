import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDemoHost } from '../examples/demo-host';

const SECRET = 'demo-only-secret-0123456789abcdef';
const SERVER = resolve(__dirname, '../dist/examples/server.js');
/** The directory the demo server used to write its keys into, under the temp dir, every run. */
const OLD_FIXED_NAME = 'express-metadata-password-demo';

let sandbox: string;
let victim: string;

beforeEach(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'mdpw-demo-keys-'));
  victim = join(sandbox, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'authorized_keys'), 'untouched\n');
});
afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

function expectPrivateKeys(keyDir: string): void {
  expect(lstatSync(keyDir).isDirectory()).toBe(true);
  expect(mode(keyDir)).toBe('700');
  const files = readdirSync(keyDir).sort();
  expect(files).toEqual(['alice.pem', 'alice.pub.pem', 'bob.pem', 'bob.pub.pem']);
  for (const file of files) {
    expect(lstatSync(join(keyDir, file)).isFile()).toBe(true);
    expect(mode(join(keyDir, file))).toBe('600');
  }
}

function expectVictimUntouched(): void {
  expect(readdirSync(victim)).toEqual(['authorized_keys']);
  expect(readFileSync(join(victim, 'authorized_keys'), 'utf8')).toBe('untouched\n');
}

/** Starts the demo server with `env`, reads the key directory it prints, and stops it. */
function serverKeyDir(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let printed: RegExpExecArray | null = null;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (printed !== null || !output.includes('As its owner')) return;
      printed = /owner keys in (\S+)\)/.exec(output);
      child.kill('SIGTERM');
    });
    child.on('exit', (code) => {
      if (printed === null) fail(new Error(`the demo server exited (${code}) before starting:\n${output}`));
      else done(printed[1]);
    });
  });
}

describe('the demo server without DEMO_KEY_DIR', () => {
  const prepared = {
    'a symlink to a directory of the victim': () => symlinkSync(victim, join(sandbox, OLD_FIXED_NAME)),
    'a directory open to all, with the key file names planted as symlinks': () => {
      const fixed = join(sandbox, OLD_FIXED_NAME);
      mkdirSync(fixed);
      chmodSync(fixed, 0o777);
      symlinkSync(join(victim, 'authorized_keys'), join(fixed, 'alice.pem'));
      symlinkSync(join(victim, 'bob-key'), join(fixed, 'bob.pem'));
    },
  };

  test.each(Object.keys(prepared))('with the old fixed path prepared as %s: writes nothing through it', async (name) => {
    if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`npm run build\` first (\`npm test\` builds before jest).`);
    prepared[name as keyof typeof prepared]();
    const keyDir = await serverKeyDir({ TMPDIR: sandbox });
    expect(keyDir.startsWith(join(sandbox, `${OLD_FIXED_NAME}-`))).toBe(true);
    expectVictimUntouched();
    // The fresh directory it made for itself goes when it stops.
    expect(existsSync(keyDir)).toBe(false);
  });
});

describe('createDemoHost key directory', () => {
  test('by default: a fresh 0700 directory under the temp dir, with 0600 keys', () => {
    const demo = createDemoHost({ secret: SECRET });
    try {
      expect(demo.keyDir.startsWith(join(tmpdir(), `${OLD_FIXED_NAME}-`))).toBe(true);
      expectPrivateKeys(demo.keyDir);
    } finally {
      rmSync(demo.keyDir, { recursive: true, force: true });
    }
  });

  test('a missing directory is created 0700', () => {
    const keyDir = join(sandbox, 'keys');
    createDemoHost({ secret: SECRET, keyDir });
    expectPrivateKeys(keyDir);
  });

  test('a directory given as a symlink is refused; nothing is written through it', () => {
    const target = join(sandbox, 'private');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(sandbox, 'link'));
    expect(() => createDemoHost({ secret: SECRET, keyDir: join(sandbox, 'link') })).toThrow(/not a directory \(a symlink/);
    expect(readdirSync(target)).toEqual([]);
  });

  test('a directory others may enter is refused; nothing is written into it', () => {
    const shared = join(sandbox, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    expect(() => createDemoHost({ secret: SECRET, keyDir: shared })).toThrow(/open to others \(mode 755\)/);
    expect(readdirSync(shared)).toEqual([]);
  });

  test('in a private directory, a key file planted as a symlink is replaced, never written through', () => {
    const keyDir = join(sandbox, 'keys');
    mkdirSync(keyDir, { mode: 0o700 });
    symlinkSync(join(victim, 'authorized_keys'), join(keyDir, 'alice.pem'));
    symlinkSync(join(victim, 'bob-new'), join(keyDir, 'bob.pem'));
    createDemoHost({ secret: SECRET, keyDir });
    expectPrivateKeys(keyDir);
    expectVictimUntouched();
  });
});
