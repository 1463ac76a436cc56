import { join } from 'node:path';
import {
  installConsumer,
  installInSteps,
  lockedVersion,
  makeWorkDir,
  packTarball,
  removeWorkDir,
  reportOf,
  type ConsumerProject,
  type RunResult,
} from './helpers/packaging-project';
import {
  BROWSER_CONSUMER,
  everyExportConsumer,
  type ConsumerSource,
  MISSPELT_OPTION,
  publicExports,
  REPO_TSC,
  typeCheck,
  typedConsumer,
  typeErrors,
} from './helpers/packaging-typescript';
import { describeWithRedis } from './helpers/services';

// Today's toolchain, from the packed tarball: a project that already has ioredis 6 installs the
// package; RedisStore runs on ioredis 5 and 6; the public types check under TypeScript 7 (the
// native compiler) and 5.9, strict, nodenext, with the libraries' declarations checked too.

const TYPESCRIPT_7 = '7.0.2';

/**
 * ioredis's own declarations import `redis-errors`, which ships no types: under `strict` with
 * `skipLibCheck: false` every ioredis user needs this one line (docs/adopting.md says so).
 */
const REDIS_ERRORS_SHIM: ConsumerSource = {
  folder: 'shims',
  type: 'commonjs',
  file: 'redis-errors.d.ts',
  source: "declare module 'redis-errors';\n",
};
const IOREDIS_5 = '5.11.1';
const IOREDIS_6 = lockedVersion('ioredis');

let workDir: string | undefined;
let current: ConsumerProject;
let onIoredis5: ConsumerProject;

beforeAll(async () => {
  workDir = await makeWorkDir();
  const { tarball } = await packTarball(workDir);
  const typesAndPeers = ['express', '@types/express', '@types/node', 'pg', '@types/pg', 'prom-client'].map(
    (name) => `${name}@${lockedVersion(name)}`,
  );
  [current, onIoredis5] = await Promise.all([
    // ioredis 6 first, then the package: npm must accept it as the optional peer, no ERESOLVE.
    installInSteps(
      workDir,
      'current',
      [[`ioredis@${IOREDIS_6}`], [tarball, ...typesAndPeers, `typescript@${TYPESCRIPT_7}`]],
      ['redis-set-once.cjs'],
    ),
    installConsumer(workDir, 'ioredis5', tarball, { ioredis: IOREDIS_5 }, ['redis-set-once.cjs']),
  ]);
}, 300_000);

afterAll(() => removeWorkDir(workDir));

test('a project with ioredis 6 installs the package (npm install ioredis@6 && npm install <tarball>)', async () => {
  const installed = reportOf<Record<string, string>>(
    await current.node('-e', [
      'console.log(JSON.stringify(Object.fromEntries(["ioredis", "typescript", "express-metadata-password"].map((n) => [n, require(n + "/package.json").version]))))',
    ]),
  );
  expect(installed).toEqual({ ioredis: IOREDIS_6, typescript: TYPESCRIPT_7, 'express-metadata-password': expect.any(String) });
});

describeWithRedis('RedisStore from the tarball against the local Redis', () => {
  test.each([
    ['5', () => onIoredis5, IOREDIS_5],
    ['6', () => current, IOREDIS_6],
  ])('on ioredis %s: set once, a second set refused, read, clear', async (_major, project, version) => {
    expect(reportOf(await project().node('redis-set-once.cjs'))).toEqual({
      ioredis: version,
      first: true,
      second: false,
      read: true,
      cleared: true,
      afterClear: null,
    });
  });
});

describe.each([
  [`TypeScript ${TYPESCRIPT_7}`, () => join(current.dir, 'node_modules', 'typescript', 'bin', 'tsc')],
  [`TypeScript ${lockedVersion('typescript')}`, () => REPO_TSC],
])('%s, strict nodenext, skipLibCheck off', (name, tsc) => {
  // One compiler run: every export in use, and one misspelt option, the run's only error.
  let checked: RunResult;
  beforeAll(async () => {
    checked = await typeCheck(
      current.dir,
      name.replace(/\W+/g, '-'),
      [everyExportConsumer(), typedConsumer('commonjs'), typedConsumer('module'), BROWSER_CONSUMER, REDIS_ERRORS_SHIM, MISSPELT_OPTION],
      true,
      tsc(),
    );
  }, 120_000);

  test('a host using every public export of every entry point type-checks', () => {
    expect(publicExports().flatMap(({ values, types }) => [...values, ...types]).length).toBeGreaterThan(50);
    expect(typeErrors(checked).filter((line) => !line.startsWith('misspelt/'))).toEqual([]);
    expect(checked.stderr).toBe('');
  });

  test('a misspelt option fails to type-check, naming it', () => {
    expect(checked.status).not.toBe(0);
    expect(typeErrors(checked)).toEqual([
      expect.stringMatching(/^misspelt\/consumer\.ts\(\d+,\d+\): error TS\d+: .*'maxByte' does not exist in type 'PasswordRouterOptions/),
    ]);
  });
});
