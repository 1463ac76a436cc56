import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { startFakeOwnerApi, startLocalServer, type FakeOwnerApi, type LocalServer } from './helpers/cli-owner-api';
import {
  canRunInTerminal,
  requireBuiltCli,
  runCli,
  runCliInTerminal,
  runCliProcess,
  type CliResult,
  type RunCliOptions,
} from './helpers/cli-run';
import {
  KEY_PASSPHRASE,
  makeKeyDir,
  makeOpensslRsaKey,
  makeOtherKey,
  makeRsaKeySet,
  opensslDecrypt,
  opensslEncrypt,
  removeKeyDir,
  type OpensslRsaKey,
  type PrivateKeyFile,
  type RsaKeySet,
} from './helpers/crypto-keys';

const PASSWORD = 'Pä$$w0rd — 日本語 ✓';
const ENV_TOKEN = 'gAAAAABenv-token_0123456789';
const FILE_TOKEN = 'gAAAAABfile-token_0123456789';
const FLAG_TOKEN = 'gAAAAABflag-token_0123456789';
/** Never printed on stderr, whatever happens. */
const SECRETS = [PASSWORD, KEY_PASSPHRASE, 'wrong passphrase', ENV_TOKEN, FILE_TOKEN, FLAG_TOKEN];

let dir: string | undefined;
let keys: RsaKeySet;
let otherKeys: RsaKeySet;
let weakKeys: RsaKeySet;
let uselessKey: OpensslRsaKey;
let files: Record<
  'publicKey' | 'weakPublicKey' | 'ed25519PublicKey' | 'passphrase' | 'wrongPassphrase' | 'token',
  string
>;
let api: FakeOwnerApi;
let ciphertext: string;

function keyFile(set: RsaKeySet, format: PrivateKeyFile['format'], encrypted: boolean): string {
  const key = set.privateKeys.find((candidate) => candidate.format === format && !!candidate.passphrase === encrypted);
  if (key === undefined) throw new Error(`no ${format} key (encrypted: ${encrypted})`);
  return key.path;
}

const plainKey = () => keyFile(keys, 'openssh', false);
/** PEM, not OpenSSH: opening an encrypted OpenSSH key costs a bcrypt run, which many tests would repeat. */
const encryptedKey = () => keyFile(keys, 'pem', true);
const encryptedOpenSshKey = () => keyFile(keys, 'openssh', true);

beforeAll(async () => {
  requireBuiltCli();
  dir = makeKeyDir();
  const keyDir = dir;
  let ed25519;
  [keys, otherKeys, weakKeys, uselessKey, ed25519] = await Promise.all([
    makeRsaKeySet(keyDir, 2048),
    makeRsaKeySet(keyDir, 2048, 'other-rsa-2048'),
    makeRsaKeySet(keyDir, 1024),
    makeOpensslRsaKey(keyDir, 512),
    makeOtherKey(keyDir, 'ed25519', 'openssh'),
  ]);
  const write = (name: string, content: string) => {
    const path = join(keyDir, name);
    // Owner-only, as a careful user keeps them: the files others may read are made by the tests that need them.
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  files = {
    publicKey: write('owner.pub', `${keys.sshPublicLine}\n`),
    weakPublicKey: write('weak.pub', `${weakKeys.sshPublicLine}\n`),
    ed25519PublicKey: write('ed25519.pub', `${ed25519.sshPublicLine}\n`),
    passphrase: write('passphrase', `${KEY_PASSPHRASE}\n`),
    wrongPassphrase: write('wrong-passphrase', 'wrong passphrase\n'),
    token: write('token', `${FILE_TOKEN}\n`),
  };
  ciphertext = opensslEncrypt(keys.spkiPath, Buffer.from(PASSWORD), 'pkcs1');
  api = await startFakeOwnerApi({ 'server-1': ciphertext, 'server-empty': '' });
}, 30_000);

afterAll(async () => {
  await api?.close();
  removeKeyDir(dir);
});

/** Runs the command line (in this process) and checks that nothing secret reached stderr. */
async function run(args: readonly string[], options?: RunCliOptions): Promise<CliResult> {
  const result = await runCli(args, options);
  for (const secret of SECRETS) expect(result.stderr).not.toContain(secret);
  return result;
}

function expectFailure(result: CliResult, status: 1 | 2, stderr: RegExp): void {
  expect(result.status).toBe(status);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(stderr);
}

describe('the built bin, as a process', () => {
  // The other cases run the program in this process (runCli); these prove the bin itself: its
  // streams, its exit status and its environment.
  test('decrypt prints the password on stdout and exits 0', async () => {
    const result = await runCliProcess(['decrypt', '--key', plainKey(), ciphertext]);
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });

  test('encrypt reads the password from stdin', async () => {
    const result = await runCliProcess(['encrypt', '--public-key', files.publicKey], { input: `${PASSWORD}\n` });
    expect(result.status).toBe(0);
    expect(opensslDecrypt(keys.opensslPrivatePath, result.stdout.trim(), 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('get takes the token from OS_AUTH_TOKEN', async () => {
    const args = ['get', '--url', api.baseUrl, '--server', 'server-1', '--key', plainKey()];
    const result = await runCliProcess(args, { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });

  test('no command prints the help on stderr and exits 2; a failure exits 1', async () => {
    expect(await runCliProcess([])).toMatchObject({ status: 2, stdout: '', stderr: expect.stringContaining('Commands:') });
    const failed = await runCliProcess(['decrypt', '--key', join(dir!, 'missing'), ciphertext]);
    expect(failed).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('no such file') });
  });
});

describe('encrypt', () => {
  test('encrypts a password argument for the public key; openssl decrypts it', async () => {
    const result = await run(['encrypt', '--public-key', files.publicKey, PASSWORD]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const printed = result.stdout.trim();
    expect(Buffer.from(printed, 'base64')).toHaveLength(256);
    expect(opensslDecrypt(keys.opensslPrivatePath, printed, 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test.each([
    ['with -', ['-']],
    ['without an argument', []],
  ])('reads the password from stdin %s, removing one trailing newline', async (_case, extra) => {
    const result = await run(['encrypt', '--public-key', files.publicKey, ...extra], { input: `${PASSWORD}\n` });
    expect(result.status).toBe(0);
    expect(opensslDecrypt(keys.opensslPrivatePath, result.stdout.trim(), 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('--padding oaep-sha256 makes OAEP ciphertext', async () => {
    const result = await run(['encrypt', '--public-key', files.publicKey, '--padding', 'oaep-sha256', '-'], {
      input: PASSWORD,
    });
    expect(result.status).toBe(0);
    const printed = result.stdout.trim();
    expect(opensslDecrypt(keys.opensslPrivatePath, printed, 'oaep-sha256').toString('utf8')).toBe(PASSWORD);
  });

  test('refuses an ed25519 public key and a private key in place of the public key', async () => {
    const ed = await run(['encrypt', '--public-key', files.ed25519PublicKey, '-'], { input: PASSWORD });
    expectFailure(ed, 1, /RSA/);
    const wrongHalf = await run(['encrypt', '--public-key', plainKey(), '-'], { input: PASSWORD });
    expectFailure(wrongHalf, 1, /public key/);
  });
});

describe('decrypt', () => {
  test('decrypts a ciphertext argument made by openssl', async () => {
    const result = await run(['decrypt', '--key', plainKey(), ciphertext]);
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });

  test.each([
    ['with -', ['-']],
    ['without an argument', []],
  ])('reads a line-wrapped ciphertext from stdin %s', async (_case, extra) => {
    const wrapped = `${ciphertext.replace(/.{64}/g, '$&\n')}\n`;
    const result = await run(['decrypt', '--key', plainKey(), ...extra], { input: wrapped });
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test('--padding oaep-sha256 decrypts OAEP ciphertext', async () => {
    const oaep = opensslEncrypt(keys.spkiPath, Buffer.from(PASSWORD), 'oaep-sha256');
    const result = await run(['decrypt', '--key', plainKey(), '--padding', 'oaep-sha256', oaep]);
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test('a wrong key fails with exit status 1 and prints no password', async () => {
    const result = await run(['decrypt', '--key', keyFile(otherKeys, 'pem', false), ciphertext]);
    expectFailure(result, 1, /Decryption failed/);
  });

  test('a corrupt ciphertext fails with exit status 1', async () => {
    expectFailure(await run(['decrypt', '--key', plainKey(), 'not base64!']), 1, /not base64/);
  });

  test('reads the passphrase from --passphrase-file', async () => {
    for (const format of ['openssh', 'pem', 'pkcs8'] as const) {
      const key = keyFile(keys, format, true);
      const result = await run(['decrypt', '--key', key, '--passphrase-file', files.passphrase, ciphertext]);
      expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
    }
  });

  test('reads the passphrase from METADATA_PASSWORD_PASSPHRASE', async () => {
    const result = await run(['decrypt', '--key', encryptedKey(), ciphertext], {
      env: { METADATA_PASSWORD_PASSPHRASE: KEY_PASSPHRASE },
    });
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test('--passphrase-file wins over the environment', async () => {
    const result = await run(['decrypt', '--key', encryptedKey(), '--passphrase-file', files.passphrase, ciphertext], {
      env: { METADATA_PASSWORD_PASSPHRASE: 'wrong passphrase' },
    });
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test('an encrypted key without passphrase and no terminal fails, saying how to pass one', async () => {
    const result = await run(['decrypt', '--key', encryptedKey(), ciphertext]);
    expectFailure(result, 1, /encrypted: pass --passphrase-file FILE or set METADATA_PASSWORD_PASSPHRASE/);
  });

  test('a wrong passphrase fails without printing it', async () => {
    const withFile = ['decrypt', '--key', encryptedKey(), '--passphrase-file', files.wrongPassphrase, ciphertext];
    const fromFile = await run(withFile);
    expectFailure(fromFile, 1, /passphrase does not open/);
    const fromEnv = await run(['decrypt', '--key', encryptedKey(), ciphertext], {
      env: { METADATA_PASSWORD_PASSPHRASE: 'wrong passphrase' },
    });
    expectFailure(fromEnv, 1, /passphrase does not open/);
  });

  (canRunInTerminal() ? test : test.skip)('prompts for the passphrase on a terminal without echoing it', async () => {
    const key = encryptedOpenSshKey();
    const prompt = `Passphrase for ${key}: `;
    const { status, screen } = await runCliInTerminal(['decrypt', '--key', key, ciphertext], prompt, KEY_PASSPHRASE);
    expect(status).toBe(0);
    expect(screen).toContain(prompt);
    expect(screen).toContain(PASSWORD);
    expect(screen).not.toContain(KEY_PASSPHRASE);
  });
});

describe('get', () => {
  const getArgs = (serverId: string, ...extra: string[]) => [
    'get',
    '--url',
    api.baseUrl,
    '--server',
    serverId,
    '--key',
    plainKey(),
    ...extra,
  ];

  beforeEach(() => {
    api.requests.length = 0;
  });

  test('fetches and decrypts the password with the token from OS_AUTH_TOKEN', async () => {
    const result = await run(getArgs('server-1'), { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
    expect(api.requests).toEqual([
      {
        method: 'GET',
        path: '/compute/v2.1/servers/server-1/os-server-password',
        token: ENV_TOKEN,
        accept: 'application/json',
      },
    ]);
  });

  test('takes the token from --token-file (newline removed), over OS_AUTH_TOKEN', async () => {
    const result = await run(getArgs('server-1', '--token-file', files.token), { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
    expect(api.requests.map((request) => request.token)).toEqual([FILE_TOKEN]);
  });

  test('takes the token from --token', async () => {
    const result = await run(getArgs('server-1', '--token', FLAG_TOKEN));
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
    expect(api.requests.map((request) => request.token)).toEqual([FLAG_TOKEN]);
  });

  test('accepts a base URL with a trailing slash', async () => {
    const args = getArgs('server-1', '--token', FLAG_TOKEN);
    args[2] = `${api.baseUrl}/`;
    expect(await run(args)).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
    expect(api.requests.map((request) => request.path)).toEqual(['/compute/v2.1/servers/server-1/os-server-password']);
  });

  test('decrypts with an encrypted key and the passphrase from the environment', async () => {
    const args = ['get', '--url', api.baseUrl, '--server', 'server-1', '--key', encryptedKey()];
    const result = await run(args, { env: { OS_AUTH_TOKEN: ENV_TOKEN, METADATA_PASSWORD_PASSPHRASE: KEY_PASSPHRASE } });
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test('an empty password says none is set (yet), exit status 1', async () => {
    const result = await run(getArgs('server-empty'), { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expectFailure(result, 1, /no password is set \(yet\) for server server-empty/);
    expect(api.requests).toHaveLength(1);
  });

  test("an error answer shows the API's status, code and message, exit status 1", async () => {
    const result = await run(getArgs('server-404'), { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expectFailure(result, 1, /404 INSTANCE_NOT_FOUND: No such instance\./);
    const url = `${api.baseUrl}/servers/server-404/os-server-password`;
    expect(result.stderr).toContain(`GET ${url}: the server answered 404 INSTANCE_NOT_FOUND`);
  });

  test('an unreachable API fails with exit status 1', async () => {
    const closed = await startFakeOwnerApi({});
    await closed.close();
    const args = ['get', '--url', closed.baseUrl, '--server', 'server-1', '--key', plainKey(), '--token', FLAG_TOKEN];
    const url = `${closed.baseUrl}/servers/server-1/os-server-password`;
    const result = await run(args);
    expectFailure(result, 1, /cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED, connection refused/);
    expect(result.stderr).toContain(`GET ${url}: `);
  });

  test('a wrong key fails with exit status 1', async () => {
    const args = ['get', '--url', api.baseUrl, '--server', 'server-1', '--key', keyFile(otherKeys, 'openssh', false)];
    expectFailure(await run(args, { env: { OS_AUTH_TOKEN: ENV_TOKEN } }), 1, /Decryption failed/);
  });

  test.each([
    ['no token anywhere', [], /no token: set OS_AUTH_TOKEN/],
    ['--token and --token-file together', ['--token', FLAG_TOKEN, '--token-file', 'x'], /either --token or/],
  ])('%s is a usage error', async (_case, extra, message) => {
    expectFailure(await run(getArgs('server-1', ...(extra as string[]))), 2, message);
    expect(api.requests).toHaveLength(0);
  });

  test.each([
    ['a relative --url', ['--url', 'compute/v2.1'], /--url must be an absolute/],
    ['an ftp --url', ['--url', 'ftp://127.0.0.1/'], /http or https/],
    ['a --url with credentials', ['--url', 'http://user:pw@127.0.0.1/'], /credentials/],
    ['a --server with a slash', ['--server', 'a/b'], /--server must be a server id/],
    ['a --server of ..', ['--server', '..'], /--server must be a server id/],
  ])('%s is a usage error', async (_case, override, message) => {
    const args = getArgs('server-1', '--token', FLAG_TOKEN);
    args[args.indexOf(override[0]) + 1] = override[1];
    expectFailure(await run(args), 2, message);
    expect(api.requests).toHaveLength(0);
  });
});


describe('keys that are weak or protect nothing', () => {
  const WARNING = /^metadata-password: warning: the 1024-bit key in '.*' is weak: keys under 2048 bits may be factored/;

  test('encrypt with a 1024-bit key succeeds and warns on stderr that it is weak', async () => {
    const result = await run(['encrypt', '--public-key', files.weakPublicKey, '-'], { input: PASSWORD });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(WARNING);
    expect(opensslDecrypt(weakKeys.opensslPrivatePath, result.stdout.trim(), 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('decrypt with a 1024-bit key prints the password and warns on stderr that it is weak', async () => {
    const weakCiphertext = opensslEncrypt(weakKeys.spkiPath, Buffer.from(PASSWORD), 'pkcs1');
    const result = await run(['decrypt', '--key', keyFile(weakKeys, 'openssh', false), weakCiphertext]);
    expect(result).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
    expect(result.stderr).toMatch(WARNING);
  });

  test('a 2048-bit key gives no warning', async () => {
    const result = await run(['encrypt', '--public-key', files.publicKey, '-'], { input: PASSWORD });
    expect(result).toMatchObject({ status: 0, stderr: '' });
  });

  test('a 512-bit key is refused, naming the file, exit status 1', async () => {
    const encrypt = await run(['encrypt', '--public-key', uselessKey.spkiPath, '-'], { input: PASSWORD });
    expectFailure(encrypt, 1, /key file '.*\.pub': This RSA key is refused: its modulus is 512 bits/);
    const decrypt = await run(['decrypt', '--key', uselessKey.privatePath, ciphertext]);
    expectFailure(decrypt, 1, /key file '.*\.pem': This RSA key is refused: its modulus is 512 bits/);
  });
});

describe('what the server sends', () => {
  /** Characters that move the cursor, recolour, retitle or reorder what a terminal shows. */
  const UNPRINTABLE = /[^\P{Cc}\n]|[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
  const HOSTILE_MESSAGE =
    'Token \u202eexpired\u202c; \u2066see\u2069 \u200e\u200f\u061cadmin\u001b]0;owned\u0007 now\r\n' +
    'metadata-password: fake line\u0085\u2028end\u001b[2J';
  let server: LocalServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const getFrom = (base: string) =>
    run(['get', '--url', base, '--server', 'server-1', '--key', plainKey(), '--token', FLAG_TOKEN]);
  const urlOf = (base: string) => `${base}/servers/server-1/os-server-password`;

  test('strips control and bidirectional characters from an error message before printing it', async () => {
    server = await startLocalServer((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'FORBIDDEN\u001b[31m\u202e', message: HOSTILE_MESSAGE } }));
    });
    const result = await getFrom(server.origin);
    expectFailure(result, 1, /the server answered 403 FORBIDDEN/);
    expect(result.stderr).toContain('Token expired; see admin');
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(result.stderr.slice(0, -1)).not.toMatch(UNPRINTABLE);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });

  test("a wrong --url prefix (the host's own 404 page) names the request and says to check --url", async () => {
    server = await startLocalServer(express());
    const base = `${server.origin}/v2.1`;
    const result = await getFrom(base);
    expectFailure(result, 1, /the server answered 404 without the API's JSON error \(text\/html; charset=utf-8\)/);
    expect(result.stderr).toContain(`GET ${urlOf(base)}: `);
    expect(result.stderr).toContain('this does not look like the compute API; check --url');
  });

  test('a 200 answer without a password says this is not the compute API', async () => {
    server = await startLocalServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"versions": []}');
    });
    const result = await getFrom(server.origin);
    expectFailure(result, 1, /answered 200 without \{"password": \.\.\.\} \(application\/json\): this does not look/);
    expect(result.stderr).toContain(`GET ${urlOf(server.origin)}: `);
  });

  test.each([301, 302, 303, 307, 308])('a %i to another origin is not followed: nothing reaches it, no token', async (status) => {
    const elsewhere: Array<string | undefined> = [];
    const other = await startLocalServer((req, res) => {
      elsewhere.push(req.headers['x-auth-token'] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ password: ciphertext }));
    });
    const requests: Array<{ path: string | undefined; token: string | undefined }> = [];
    try {
      server = await startLocalServer((req, res) => {
        requests.push({ path: req.url, token: req.headers['x-auth-token'] as string | undefined });
        res.writeHead(status, { Location: `${other.origin}/servers/server-1/os-server-password` }).end();
      });
      const result = await getFrom(server.origin);
      expectFailure(result, 1, new RegExp(`the server answered ${status}, a redirect, not followed with the token; check --url`));
      expect(result.stderr).toContain(`GET ${urlOf(server.origin)}: `);
      expect(requests).toEqual([{ path: '/servers/server-1/os-server-password', token: FLAG_TOKEN }]);
      expect(elsewhere).toEqual([]);
    } finally {
      await other.close();
    }
  });

  test.each([
    ['an answer trickled one byte a second', (res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    }],
    ['no answer at all', () => undefined],
  ])('gives up at --timeout on %s, naming the request', async (_case, answer) => {
    server = await startLocalServer((_req, res) => answer(res));
    const result = await run(['get', '--url', server.origin, '--server', 'server-1', '--key', plainKey(), '--token', FLAG_TOKEN, '--timeout', '1.5']);
    expectFailure(result, 1, /: no answer within 1\.5 s \(--timeout\); check --url/);
    expect(result.stderr).toContain(`GET ${urlOf(server.origin)}: `);
  }, 20_000);

  test.each(['0', '-1', 'abc', '3601', '1e3', ''])('--timeout %p is a usage error, sending nothing', async (value) => {
    const result = await run(['get', '--url', api.baseUrl, '--server', 'server-1', '--key', plainKey(), '--token', FLAG_TOKEN, `--timeout=${value}`]);
    expectFailure(result, 2, /--timeout must be a number of seconds from 0\.001 to 3600/);
  });

  test.each([
    ['resets the connection', (socket: Socket) => socket.resetAndDestroy(), /cannot reach 127\.0\.0\.1:\d+: ECONNRESET, /],
    [
      'answers something other than HTTP',
      (socket: Socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
      /cannot reach 127\.0\.0\.1:\d+: HPE_INVALID_CONSTANT, the answer is not HTTP/,
    ],
    [
      'closes the connection mid-answer',
      (socket: Socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"pass'),
      /the connection broke while the answer was read: UND_ERR_SOCKET, the server closed the connection/,
    ],
  ])('a server that %s: the request and the network cause are named', async (_case, answer, message) => {
    const raw = createTcpServer((socket) => socket.once('data', () => answer(socket)));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
    try {
      const result = await getFrom(base);
      expectFailure(result, 1, message);
      expect(result.stderr).toContain(`GET ${urlOf(base)}: `);
      expect(result.stderr).not.toMatch(/TypeError|fetch failed/);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  /** `{"password": "<ciphertext>"}` padded with spaces to `size` bytes. */
  const answerOfSize = (size: number) => {
    const json = JSON.stringify({ password: ciphertext });
    return `${json}${' '.repeat(size - json.length)}`;
  };

  test('reads an answer of 64 KiB whole', async () => {
    server = await startLocalServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(answerOfSize(64 * 1024));
    });
    expect(await getFrom(server.origin)).toMatchObject({ status: 0, stdout: `${PASSWORD}\n` });
  });

  test.each([
    ['one byte over 64 KiB, with its length declared', true],
    ['one byte over 64 KiB, chunked', false],
  ])('refuses an answer %s', async (_case, declared) => {
    server = await startLocalServer((_req, res) => {
      const body = answerOfSize(64 * 1024 + 1);
      res.writeHead(200, {
        'Content-Type': 'application/json',
        ...(declared ? { 'Content-Length': Buffer.byteLength(body) } : { 'Transfer-Encoding': 'chunked' }),
      });
      res.write(body.slice(0, 1024));
      res.end(body.slice(1024));
    });
    const result = await getFrom(server.origin);
    expectFailure(result, 1, /the answer is larger than 64 KiB, which no owner API answer is; stopped reading it/);
    expect(result.stderr).toContain(`GET ${urlOf(server.origin)}: `);
  });

  test('stops reading an endless answer and drops the connection', async () => {
    let sent = 0;
    let dropped!: () => void;
    const connectionDropped = new Promise<void>((resolve) => (dropped = resolve));
    server = await startLocalServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'A');
      const pump = () => {
        while (!res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      res.on('close', dropped);
      res.write('{"password": "');
      pump();
    });
    const result = await getFrom(server.origin);
    expectFailure(result, 1, /larger than 64 KiB/);
    await connectionDropped;
    expect(sent).toBeGreaterThan(64 * 1024);
  });
});

describe('a decrypted password with control or format characters (it may be forged)', () => {
  // A malicious API can encrypt any text to the owner's public key: these would change what the
  // terminal shows (`Real\rFake` shows as `Fake`; U+202E reverses what follows).
  const FORGED: ReadonlyArray<[string, string, string]> = [
    ['a carriage return', 'Real\rFake', 'U+000D'],
    ['a line feed', 'Real\nFake', 'U+000A'],
    ['a tab', 'Real\tFake', 'U+0009'],
    ['a right-to-left override', 'Real\u202Egnp.exe', 'U+202E'],
    ['a left-to-right isolate', 'Real\u2066Fake\u2069', 'U+2066, U+2069'],
    ['a zero-width space', 'Real\u200BFake', 'U+200B'],
    ['a line separator', 'Real\u2028Fake', 'U+2028'],
  ];
  let server: LocalServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const forgedCiphertext = (password: string) => opensslEncrypt(keys.spkiPath, Buffer.from(password), 'pkcs1');
  const expectRefused = (result: CliResult, password: string, codes: string) => {
    expectFailure(result, 1, /the decrypted password holds control or format characters/);
    expect(result.stderr).toContain(`control or format characters (${codes}), which change what a terminal shows`);
    expect(result.stderr).toContain('so it may be forged');
    expect(result.stderr).toContain('--raw prints it as it is');
    for (const part of password.split(/[\p{Cc}\p{Cf}\p{Zl}]/u).filter(Boolean)) expect(result.stderr).not.toContain(part);
  };

  test.each(FORGED)('decrypt refuses to print one with %s, exit status 1; --raw prints it', async (_name, password, codes) => {
    const forged = forgedCiphertext(password);
    expectRefused(await run(['decrypt', '--key', plainKey(), forged]), password, codes);
    expect(await run(['decrypt', '--key', plainKey(), '--raw', forged])).toEqual({ status: 0, stdout: `${password}\n`, stderr: '' });
  });

  test.each(FORGED)('get refuses to print one with %s, exit status 1; --raw prints it', async (_name, password, codes) => {
    const forged = forgedCiphertext(password);
    server = await startLocalServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ password: forged }));
    });
    const args = ['get', '--url', server.origin, '--server', 'server-1', '--key', plainKey(), '--token', FLAG_TOKEN];
    expectRefused(await run(args), password, codes);
    expect(await run([...args, '--raw'])).toEqual({ status: 0, stdout: `${password}\n`, stderr: '' });
  });
});

describe('local files and input', () => {
  const copyWithMode = (source: string, name: string, mode: number) => {
    const path = join(dir!, name);
    copyFileSync(source, path);
    chmodSync(path, mode);
    return path;
  };
  const warning = (kind: string, mode: string, path: string) =>
    `metadata-password: WARNING: UNPROTECTED ${kind}! Permissions ${mode} for '${path}' are too open: group or others may read it. Run \`chmod 600 '${path}'\`.\n`;

  test.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
  ])('a private key file with mode %s gets ssh\'s warning naming it, on decrypt and get; the password is still printed', async (shown, mode) => {
    const key = copyWithMode(plainKey(), `key-${shown}`, mode);
    expect(await run(['decrypt', '--key', key, ciphertext])).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: warning('PRIVATE KEY FILE', shown, key) });
    const result = await run(['get', '--url', api.baseUrl, '--server', 'server-1', '--key', key], { env: { OS_AUTH_TOKEN: ENV_TOKEN } });
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: warning('PRIVATE KEY FILE', shown, key) });
  });

  test('a token file and a passphrase file others may read get the same warning', async () => {
    const token = copyWithMode(files.token, 'token-0644', 0o644);
    const passphrase = copyWithMode(files.passphrase, 'passphrase-0644', 0o644);
    const result = await run(['get', '--url', api.baseUrl, '--server', 'server-1', '--key', encryptedKey(), '--token-file', token, '--passphrase-file', passphrase]);
    expect(result).toEqual({
      status: 0,
      stdout: `${PASSWORD}\n`,
      stderr: warning('TOKEN FILE', '0644', token) + warning('PASSPHRASE FILE', '0644', passphrase),
    });
  });

  test('owner-only files (0600, 0400) get no warning', async () => {
    const key = copyWithMode(plainKey(), 'key-0400', 0o400);
    expect(await run(['decrypt', '--key', key, ciphertext])).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
    expect(await run(['decrypt', '--key', plainKey(), ciphertext])).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });

  const big = (name: string, bytes: number) => {
    const path = join(dir!, name);
    writeFileSync(path, Buffer.alloc(bytes, 0x41), { mode: 0o600 });
    return path;
  };

  test.each([
    ['key file', () => ['decrypt', '--key', big('big-key', 1024 * 1024), ciphertext]],
    ['key file', () => ['decrypt', '--key', '/dev/zero', ciphertext]],
    ['public key file', () => ['encrypt', '--public-key', big('big.pub', 64 * 1024 + 1), 'secret']],
    ['passphrase file', () => ['decrypt', '--key', encryptedKey(), '--passphrase-file', big('big-passphrase', 1024 * 1024), ciphertext]],
    ['token file', () => ['get', '--url', api.baseUrl, '--server', 'server-1', '--key', plainKey(), '--token-file', big('big-token', 1024 * 1024)]],
  ])('a %s over 64 KiB is refused, naming it, without reading it whole (%#)', async (what, args) => {
    const result = await run(args());
    expectFailure(result, 1, new RegExp(`${what} '[^']+' is larger than 64 KiB, which no key, token, password or ciphertext is`));
  });

  test.each([
    ['decrypt', () => ['decrypt', '--key', plainKey(), '-']],
    ['encrypt', () => ['encrypt', '--public-key', files.publicKey, '-']],
  ])('%s refuses standard input over 64 KiB and stops reading it', async (_command, args) => {
    const result = await run(args(), { input: 'A'.repeat(8 * 1024 * 1024) });
    expectFailure(result, 1, /standard input is larger than 64 KiB/);
  });

  test('standard input of exactly 64 KiB is read whole', async () => {
    const input = `${ciphertext}${'\n'.repeat(64 * 1024 - ciphertext.length)}`;
    expect(await run(['decrypt', '--key', plainKey(), '-'], { input })).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });
});

describe('help and usage', () => {
  test.each([['--help'], ['-h']])('%s prints the commands, exit status 0', async (flag) => {
    const result = await run([flag]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Commands:\n\s+encrypt[\s\S]+decrypt[\s\S]+get/);
  });

  test.each(['encrypt', 'decrypt', 'get'])('%s --help prints its usage, exit status 0', async (command) => {
    for (const flag of ['--help', '-h']) {
      const result = await run([command, flag]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Usage: metadata-password ${command} `);
    }
  });

  test('get --help warns that --token is visible to other users', async () => {
    const { stdout } = await run(['get', '--help']);
    expect(stdout).toMatch(/--token TOKEN\s+the token itself; visible to other users of this machine/);
  });

  test('no command prints the help on stderr, exit status 2', async () => {
    const result = await run([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Commands:');
  });

  test.each([
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['an unknown option', ['decrypt', '--key', 'k', '--bogus', 'x'], /unknown option \(argument 4\): decrypt takes --key/],
    ['an option without its value', ['encrypt', '--public-key'], /--public-key needs a value/],
    ['a missing --key', ['decrypt', 'AAAA'], /missing --key/],
    ['a missing --public-key', ['encrypt', 'secret'], /missing --public-key/],
    ['an unknown padding', ['decrypt', '--key', 'k', '--padding', 'oaep', 'AAAA'], /--padding must be pkcs1 or/],
    ['two arguments', ['decrypt', '--key', 'k', 'AAAA', 'BBBB'], /too many arguments/],
    ['an argument to get', ['get', '--url', 'http://127.0.0.1/', '--server', 's', '--key', 'k', 'x'], /no arguments/],
  ])('%s is a usage error, exit status 2', async (_case, args, message) => {
    expectFailure(await run(args), 2, message);
  });

  const SECRET_ARGUMENT = 'S3cretPass99';
  test.each([
    ['as the command', () => [`--${SECRET_ARGUMENT}`]],
    ['as an option of encrypt', () => ['encrypt', '--public-key', files.publicKey, `--${SECRET_ARGUMENT}`]],
    ['as an option with a value', () => ['decrypt', '--key', plainKey(), `--${SECRET_ARGUMENT}=x`, ciphertext]],
    ['as a short option', () => ['get', `-${SECRET_ARGUMENT}`]],
    ['as a --padding value', () => ['decrypt', '--key', plainKey(), '--padding', SECRET_ARGUMENT, ciphertext]],
    ['as a --server value', () => ['get', '--url', api.baseUrl, '--server', `${SECRET_ARGUMENT}/x`, '--key', 'k']],
    ['as an argument too many', () => ['decrypt', '--key', plainKey(), ciphertext, SECRET_ARGUMENT]],
  ])('an argument it does not understand is never echoed (%s)', async (_case, args) => {
    const result = await run(args());
    expect(result.status).toBe(2);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET_ARGUMENT);
  });

  test('an unknown option is named by its position and the options the command takes', async () => {
    const result = await run(['decrypt', '--key', plainKey(), `--${SECRET_ARGUMENT}`, ciphertext]);
    expectFailure(result, 2, /unknown option \(argument 4\): decrypt takes --key, --passphrase-file, --padding, --raw;/);
  });

  test('an unknown command is not echoed: it may be a password typed in the wrong place', async () => {
    const result = await run([PASSWORD]);
    expectFailure(result, 2, /unknown command/);
  });
});

describe('missing files', () => {
  test.each([
    ['public key file', () => ['encrypt', '--public-key', join(dir!, 'missing.pub'), 'secret']],
    ['key file', () => ['decrypt', '--key', join(dir!, 'missing'), ciphertext]],
    [
      'passphrase file',
      () => ['decrypt', '--key', encryptedKey(), '--passphrase-file', join(dir!, 'missing'), ciphertext],
    ],
    [
      'token file',
      () => ['get', '--url', api.baseUrl, '--server', 's', '--key', plainKey(), '--token-file', join(dir!, 'missing')],
    ],
  ])('a missing %s fails with exit status 1, naming the file', async (what, args) => {
    const result = await run(args());
    expectFailure(result, 1, new RegExp(`cannot read ${what} '.*missing(\\.pub)?': no such file`));
  });
});
