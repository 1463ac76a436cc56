import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import * as ts from 'typescript';
import { documentationFiles, extractBlocks, where, type DocBlock } from './helpers/doc-blocks';
import { READER_CONTEXT } from './helpers/doc-reader-context';
import {
  installConsumer,
  lockedVersion,
  makeWorkDir,
  packTarball,
  removeWorkDir,
  REPO_ROOT,
  run,
  type ConsumerProject,
} from './helpers/packaging-project';
import { DATABASE_URL, REDIS_URL } from './helpers/services';

// Every fenced block of README.md and docs/ is a fixture, run as a user would: from the packed
// package installed in a fresh project. TypeScript blocks are type-checked (strict, nodenext, ES
// modules) with only the names the block leaves to the reader declared (READER_CONTEXT); those that
// need nothing from the reader also run, against the local Redis and PostgreSQL. Shell blocks run
// with bash in that project; SQL blocks in a transaction rolled back. A block fenced `sketch` is
// not meant to run and is skipped with its place printed; so is a block fenced `repository`
// (commands run in a clone of this repository, which `npm test` runs itself).

const RUN_DEADLINE_MS = 30_000;
const NOT_RUN_FLAGS: Record<string, string> = {
  sketch: 'a sketch, not meant to run',
  repository: 'commands for a clone of the repository (npm test runs them)',
};
const TYPESCRIPT = new Set(['ts', 'typescript', 'js', 'javascript']);
const RUNNABLE = new Set([...TYPESCRIPT, 'sh', 'bash', 'sql']);

const blocks: DocBlock[] = documentationFiles(REPO_ROOT).flatMap((path) => extractBlocks(REPO_ROOT, path));
const notRun = (block: DocBlock): string | undefined =>
  block.flags.map((flag) => NOT_RUN_FLAGS[flag]).find((reason) => reason !== undefined);

/** The names a TypeScript diagnostic says are not declared. */
function missingName(diagnostic: ts.Diagnostic): string | undefined {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  return /^(?:Cannot find name|No value exists in scope for the shorthand property) '([^']+)'/.exec(text)?.[1];
}

interface CheckedBlock {
  /** The declarations of what the block leaves to the reader. */
  readonly preamble: string;
  /** Whether the block names something it does not define: then it cannot run. */
  readonly needsReader: boolean;
  readonly errors: readonly string[];
}

/** The block's file name in the consumer project. */
function fileOf(block: DocBlock, extension: string): string {
  return `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}${extension}`;
}

/**
 * Type-checks the TypeScript blocks in `dir` twice in one program each: first as written, to find
 * the names each leaves to the reader, then with those declared (unknown names are errors).
 */
function typeCheck(dir: string, typescriptBlocks: readonly DocBlock[]): Map<DocBlock, CheckedBlock> {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const check = (preambles: Map<DocBlock, string>): Map<DocBlock, ts.Diagnostic[]> => {
    const files = new Map<string, DocBlock>();
    for (const block of typescriptBlocks) {
      const path = join(dir, fileOf(block, '.mts'));
      writeFileSync(path, (preambles.get(block) ?? '') + block.code);
      files.set(path, block);
    }
    const program = ts.createProgram([...files.keys()], options);
    const found = new Map<DocBlock, ts.Diagnostic[]>(typescriptBlocks.map((block) => [block, []]));
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const block = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
      if (block) found.get(block)!.push(diagnostic);
      else throw new Error(`TypeScript: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    }
    return found;
  };

  const preambles = new Map<DocBlock, string>();
  const unknown = new Map<DocBlock, string[]>();
  for (const [block, diagnostics] of check(preambles)) {
    const names = [...new Set(diagnostics.map(missingName).filter((name) => name !== undefined))];
    preambles.set(block, names.filter((name) => name in READER_CONTEXT).map((name) => READER_CONTEXT[name] + '\n').join(''));
    unknown.set(block, names.filter((name) => !(name in READER_CONTEXT)));
  }
  const checked = new Map<DocBlock, CheckedBlock>();
  for (const [block, diagnostics] of check(preambles)) {
    const preamble = preambles.get(block)!;
    const preambleLines = preamble.split('\n').length - 1;
    const errors = diagnostics
      .filter((diagnostic) => !unknown.get(block)!.includes(missingName(diagnostic) ?? ''))
      .map((diagnostic) => {
        const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const docLine = block.line + 1 + line - preambleLines;
        return `${block.file}:${docLine}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
    const undeclared = unknown
      .get(block)!
      .map((name) => `${where(block)}: uses \`${name}\`, which neither the block defines nor the reader is assumed to have (READER_CONTEXT)`);
    checked.set(block, { preamble, needsReader: preamble !== '' || undeclared.length > 0, errors: [...undeclared, ...errors] });
  }
  return checked;
}

/**
 * What runs after a block: a service or store the block made stores, reads and clears a password,
 * so a client that is not ready yet, or a store that cannot write, fails the block.
 */
function epilogue(block: DocBlock): string {
  const id = `doc-snippet-${randomUUID()}`;
  const value = Buffer.alloc(256, 7).toString('base64');
  const lines = ['', `const __id = ${JSON.stringify(id)}, __value = ${JSON.stringify(value)};`];
  if (/\b(const|let)\s+service\b/.test(block.code)) {
    lines.push(
      "if (!(await service.setOnce(__id, __value))) throw new Error('service.setOnce did not store');",
      "if ((await service.get(__id)) !== __value) throw new Error('service.get did not read the value back');",
      'await service.clear(__id);',
    );
  } else if (/\b(const|let)\s+store\b/.test(block.code)) {
    lines.push(
      "if (!(await store.setIfAbsent(__id, __value))) throw new Error('store.setIfAbsent did not store');",
      "if ((await store.get(__id)) !== __value) throw new Error('store.get did not read the value back');",
      'await store.delete(__id);',
    );
  }
  lines.push('process.exit(0);', '');
  return lines.join('\n');
}

let workDir: string | undefined;
let consumer: ConsumerProject;
let home: string;
let checked: Map<DocBlock, CheckedBlock>;

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  HOME: home,
  REDIS_URL,
  DATABASE_URL,
  PASSWORD: 'S3cret!',
  npm_config_cache: join(process.env.HOME ?? '', '.npm'),
});

beforeAll(async () => {
  workDir = await makeWorkDir();
  const { tarball } = await packTarball(workDir);
  // The peers, their types, and the libraries documented hosts use beside the package.
  const dependencies = Object.fromEntries(
    [
      'express',
      '@types/express',
      '@types/node',
      'ioredis',
      'pg',
      '@types/pg',
      'prom-client',
      'rate-limit-redis',
      'express-validator',
    ].map((name) => [name, lockedVersion(name)]),
  );
  consumer = await installConsumer(workDir, 'reader', tarball, dependencies, []);
  // The reader's own key pair, where the docs say it is: ~/.ssh/id_rsa.
  home = join(workDir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(home, '.ssh', 'id_rsa')]);
  checked = typeCheck(consumer.dir, blocks.filter((block) => TYPESCRIPT.has(block.lang) && notRun(block) === undefined));
}, 300_000);

afterAll(() => removeWorkDir(workDir));

test('README.md and docs/ have code blocks, and every one is runnable or marked as not meant to run', () => {
  expect(blocks.length).toBeGreaterThan(20);
  const unmarked = blocks
    .filter((block) => !RUNNABLE.has(block.lang) && notRun(block) === undefined)
    .map((block) => `${where(block)}: a \`${block.lang || 'plain'}\` block: fence it \`\`\`${block.lang || 'text'} sketch if it is not meant to run`);
  expect(unmarked).toEqual([]);
});

describe.each(blocks.map((block) => [where(block), block] as const))('%s', (_place, block) => {
  const reason = notRun(block);
  if (reason !== undefined || !RUNNABLE.has(block.lang)) {
    test.skip(`not run: ${reason ?? `a ${block.lang || 'plain'} block`}`, () => undefined);
    console.log(`doc-snippets: ${where(block)} (${block.lang || 'plain'}) not run: ${reason ?? 'not code'}`);
    return;
  }

  if (TYPESCRIPT.has(block.lang)) {
    test('type-checks with only what it leaves to the reader declared', () => {
      expect(checked.get(block)!.errors).toEqual([]);
    });
    test('runs when it needs nothing from the reader (else says so), and what it builds stores a password', async () => {
      const { needsReader, errors } = checked.get(block)!;
      if (needsReader || errors.length > 0) {
        // Declarations have no values: such a block is type-checked only.
        console.log(`doc-snippets: ${where(block)} type-checked only: it uses what the reader has (${errors.length} errors)`);
        return;
      }
      const script = join(consumer.dir, fileOf(block, '.mjs'));
      const { outputText } = ts.transpileModule(block.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(script, outputText + epilogue(block));
      const result = await run(process.execPath, [script], consumer.dir, RUN_DEADLINE_MS, env());
      expect({ block: where(block), status: result.status, stderr: result.stderr }).toEqual({
        block: where(block),
        status: 0,
        stderr: '',
      });
    }, RUN_DEADLINE_MS + 5_000);
    return;
  }

  if (block.lang === 'sql') {
    test('runs in PostgreSQL (in a transaction, rolled back)', async () => {
      const client = new Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        await client.query('BEGIN');
        await expect(client.query(block.code).then(() => 'ran')).resolves.toBe('ran');
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
    });
    return;
  }

  test('runs with bash in a project that installed the package, and exits 0', async () => {
    // `npm install` lines name what the project was installed with: checked, not run again (the
    // package is not on the registry while it is tested).
    const lines = block.code.split('\n');
    const installed = lines.flatMap((line) => /^npm install (.+?)(\s+#.*)?$/.exec(line.trim())?.[1].split(/\s+/) ?? []);
    const missing = installed
      .filter((name) => !name.startsWith('-'))
      .filter((name) => !existsSync(join(consumer.dir, 'node_modules', name, 'package.json')));
    expect(missing).toEqual([]);
    const script = lines.filter((line) => !/^npm install /.test(line.trim())).join('\n');
    const result = await run('bash', ['-euo', 'pipefail', '-c', script], consumer.dir, RUN_DEADLINE_MS, env());
    expect({ block: where(block), status: result.status, stderr: result.stderr }).toEqual({
      block: where(block),
      status: 0,
      stderr: expect.not.stringMatching(/error|not found|No such file/i),
    });
  }, RUN_DEADLINE_MS + 5_000);
});
