import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/**
 * Compiles `files` (paths under the project) into an empty temporary directory, where no
 * node_modules can be found, and requires `entry` there in a fresh Node process. Resolves what the
 * process printed on stderr and its exit code.
 */
export function requireWithoutPeers(files: readonly string[], entry: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mdpw-no-peers-'));
  try {
    for (const file of files) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      const target = join(dir, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
    const { status, stderr } = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(`./${entry}`)})`], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: '' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { status, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
