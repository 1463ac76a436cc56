import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  expectGuestAndOwnerFlow,
  expectRejectedHookAnswers500,
  startRoutersApp,
  type RunningApp,
} from './helpers/packaging-app';
import {
  installConsumer,
  lockedVersion,
  makeWorkDir,
  packTarball,
  removeWorkDir,
  reportOf,
  run,
  type ConsumerProject,
  type RunResult,
} from './helpers/packaging-project';
import { BROWSER_CONSUMER, MISSPELT_OPTION, typeCheck, typedConsumer, typeErrors } from './helpers/packaging-typescript';

// One consumer without the optional peers (ioredis, pg, prom-client): Express 5 and the type packages only.
let workDir: string | undefined;
let consumer: ConsumerProject;

beforeAll(async () => {
  workDir = await makeWorkDir();
  const { tarball } = await packTarball(workDir);
  const dependencies = Object.fromEntries(
    ['express', '@types/express', '@types/node'].map((name) => [name, lockedVersion(name)]),
  );
  consumer = await installConsumer(workDir, 'without-peers', tarball, dependencies, [
    'require-all.cjs',
    'import-named.mjs',
    'import-browser.mjs',
    'routers-app.cjs',
  ]);
}, 180_000);

afterAll(() => removeWorkDir(workDir));

describe('CommonJS require', () => {
  let report: Record<string, Record<string, string>>;
  beforeAll(async () => {
    report = reportOf(await consumer.node('require-all.cjs'));
  });

  test('loads the package and /crypto with their named exports', () => {
    expect(report['express-metadata-password']).toMatchObject({
      createPasswordRouter: 'function',
      createServerPasswordRouter: 'function',
      signedProxyIdentity: 'function',
      toSystemMetadata: 'function',
      fromSystemMetadata: 'function',
      PasswordService: 'class',
      MemoryStore: 'class',
      PasswordError: 'class',
      OptionsError: 'class',
      ERROR_STATUS: 'object',
    });
    expect(report['express-metadata-password/crypto']).toMatchObject({
      encryptPassword: 'function',
      decryptPassword: 'function',
      PasswordCryptoError: 'class',
    });
  });

  test('of /redis, /postgres and /metrics throws, naming the missing peer to install', () => {
    expect(report['express-metadata-password/redis']).toEqual({
      error: expect.stringContaining('npm install ioredis'),
    });
    expect(report['express-metadata-password/postgres']).toEqual({
      error: expect.stringContaining('npm install pg'),
    });
    expect(report['express-metadata-password/metrics']).toEqual({
      error: 'express-metadata-password/metrics needs prom-client: npm install prom-client',
    });
  });
});

test('ESM named imports of the package and /crypto store and decrypt a password', async () => {
  expect(reportOf(await consumer.node('import-named.mjs'))).toEqual({
    functions: ['function', 'function', 'function'],
    firstSet: true,
    secondSet: false,
    decrypted: 'Passw0rd!',
    codecRoundTrip: true,
    passwordErrorIsError: true,
  });
});

test('ESM import of /browser decrypts both paddings and reads a password from an owner API', async () => {
  expect(reportOf(await consumer.node('import-browser.mjs'))).toEqual({
    exports: ['PasswordCryptoError', 'ServerPasswordError', 'clearServerPassword', 'decryptPassword', 'getServerPassword'],
    decrypted: ['Grüße ✓', 'Grüße ✓'],
    fromApi: 'from the API',
    refused: { name: 'ServerPasswordError', status: 403, code: 'FORBIDDEN', message: 'Not yours.' },
  });
});

describe('TypeScript, strict nodenext', () => {
  // One compiler run: the typed consumers, and one misspelt option, the run's only error.
  let checked: RunResult;
  beforeAll(async () => {
    checked = await typeCheck(
      consumer.dir,
      'typescript',
      [typedConsumer('commonjs'), typedConsumer('module'), BROWSER_CONSUMER, MISSPELT_OPTION],
      true,
    );
  }, 120_000);

  test('a consumer of the public types type-checks as CommonJS and as an ES module, /browser too', () => {
    expect(typeErrors(checked).filter((line) => !line.startsWith('misspelt/'))).toEqual([]);
    expect(checked.stderr).toBe('');
  });

  test('a misspelt option fails to type-check', () => {
    expect(checked.status).not.toBe(0);
    expect(typeErrors(checked)).toEqual([
      expect.stringMatching(/^misspelt\/consumer\.ts\(\d+,\d+\): error TS\d+: .*'maxByte' does not exist in type 'PasswordRouterOptions/),
    ]);
  });
});

describe('Express 5 app with both routers', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startRoutersApp(consumer);
  });
  afterAll(() => app?.stop());

  test(`runs on Express ${lockedVersion('express')}`, () => {
    expect(app.expressVersion).toBe(lockedVersion('express'));
  });

  test('stores a guest POST, answers it to the guest and to the owner', () => expectGuestAndOwnerFlow(app));

  test('answers 500 JSON when a hook rejects, and keeps serving', () => expectRejectedHookAnswers500(app));
});

describe('the metadata-password bin', () => {
  const npx = (args: readonly string[]) => run('npx', ['--no', '--', 'metadata-password', ...args], consumer.dir);

  test('--help prints its usage and exits 0', async () => {
    const result = await npx(['--help']);
    expect(result).toMatchObject({ status: 0, stdout: expect.stringContaining('Usage: metadata-password') });
    expect(result.stdout).toMatch(/encrypt[\s\S]*decrypt[\s\S]*get/);
  });

  test('encrypts with a public key and decrypts with the private key', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyFile = join(consumer.dir, 'owner.pub.pem');
    const privateKeyFile = join(consumer.dir, 'owner.pem');
    await writeFile(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(privateKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

    const encrypted = await npx(['encrypt', '--public-key', publicKeyFile, 'Passw0rd!']);
    expect(encrypted).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[A-Za-z0-9+/]{342}==\n$/) });
    const decrypted = await npx(['decrypt', '--key', privateKeyFile, encrypted.stdout.trim()]);
    expect(decrypted).toMatchObject({ status: 0, stdout: 'Passw0rd!\n' });
  });
});
