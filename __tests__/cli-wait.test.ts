import { MemoryStore } from '../lib';
import { startFakeOwnerApi } from './helpers/cli-owner-api';
import { requireBuiltCli, runCliProcess, type CliResult } from './helpers/cli-run';
import { makeKeyDir, makeRsaKeySet, opensslEncrypt, removeKeyDir, type RsaKeySet } from './helpers/crypto-keys';
import { OWNER_TOKEN, sleep, startWaitHost, type WaitHost } from './helpers/wait-host';

const PASSWORD = 'Wait-for-it 9!';

let dir: string;
let right: RsaKeySet;
let sameSize: RsaKeySet;
let smaller: RsaKeySet;
let host: WaitHost;

const keyPath = (set: RsaKeySet) => set.privateKeys.find((key) => key.format === 'pem' && !key.passphrase)!.path;

beforeAll(async () => {
  requireBuiltCli();
  dir = makeKeyDir();
  [right, sameSize, smaller] = await Promise.all([
    makeRsaKeySet(dir, 2048),
    makeRsaKeySet(dir, 2048, 'other-rsa-2048'),
    makeRsaKeySet(dir, 1024),
  ]);
  host = await startWaitHost(new MemoryStore(), { maxWait: 1 });
}, 60_000);

afterAll(async () => {
  await host?.close();
  removeKeyDir(dir);
});

function get(serverId: string, baseUrl: string, ...extra: string[]): Promise<CliResult> {
  return runCliProcess(['get', '--url', `${baseUrl}/compute/v2.1`, '--server', serverId, ...extra], {
    env: { OS_AUTH_TOKEN: OWNER_TOKEN },
  });
}

describe('get --wait SECONDS', () => {
  test('waits for the guest: prints the password as soon as it is posted', async () => {
    const id = `vm-${Date.now()}-posted`;
    const started = performance.now();
    const running = get(id, host.baseUrl, '--key', keyPath(right), '--wait', '30');
    await sleep(2500);
    await host.service.setOnce(id, opensslEncrypt(right.spkiPath, Buffer.from(PASSWORD), 'pkcs1'));
    const result = await running;
    expect(result).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
    expect(performance.now() - started).toBeLessThan(8000);
  }, 30_000);

  test('exits 3 with a message when none came by the deadline, repeating the long-poll until then', async () => {
    const before = host.lookups();
    const started = performance.now();
    const result = await get(`vm-${Date.now()}-never`, host.baseUrl, '--key', keyPath(right), '--wait', '3');
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no password came for server vm-\d+-never within 3 s/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2900);
    expect(host.lookups() - before).toBeGreaterThanOrEqual(3);
  }, 30_000);

  test('asks a server that holds no wait again after a pause, not in a tight loop', async () => {
    const api = await startFakeOwnerApi({ 'vm-1': '' });
    try {
      const started = performance.now();
      const result = await runCliProcess(
        ['get', '--url', api.baseUrl, '--server', 'vm-1', '--key', keyPath(right), '--wait', '3'],
        { env: { OS_AUTH_TOKEN: OWNER_TOKEN } },
      );
      expect(result.status).toBe(3);
      expect(performance.now() - started).toBeGreaterThanOrEqual(2900);
      expect(api.requests.length).toBeGreaterThanOrEqual(2);
      expect(api.requests.length).toBeLessThanOrEqual(3);
    } finally {
      await api.close();
    }
  }, 30_000);

  test.each(['0', '-1', '1.5', 'soon', '86401'])('--wait %s is a usage error, exit 2', async (wait) => {
    const result = await get('vm-1', host.baseUrl, '--key', keyPath(right), `--wait=${wait}`);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--wait takes whole seconds from 1 to 86400');
  });
});

describe('--key repeated', () => {
  let ciphertext: string;
  let id: string;
  beforeAll(async () => {
    id = `vm-${Date.now()}-keys`;
    ciphertext = opensslEncrypt(right.spkiPath, Buffer.from(PASSWORD), 'pkcs1');
    await host.service.setOnce(id, ciphertext);
  });

  test('get tries each key; stderr names the one that decrypted', async () => {
    const result = await get(id, host.baseUrl, '--key', keyPath(smaller), '--key', keyPath(sameSize), '--key', keyPath(right));
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${PASSWORD}\n`);
    expect(result.stderr).toBe(`metadata-password: decrypted with key file '${keyPath(right)}'\n`);
  });

  test('decrypt tries each key too, whatever the order', async () => {
    const result = await runCliProcess(['decrypt', '--key', keyPath(right), '--key', keyPath(sameSize), ciphertext]);
    expect(result).toEqual({
      status: 0,
      stdout: `${PASSWORD}\n`,
      stderr: `metadata-password: decrypted with key file '${keyPath(right)}'\n`,
    });
  });

  test('only wrong keys: exit 1 naming each, no garbage printed', async () => {
    const result = await get(id, host.baseUrl, '--key', keyPath(sameSize), '--key', keyPath(smaller));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('none of the 2 keys decrypts this password');
    expect(result.stderr).toContain(`'${keyPath(sameSize)}'`);
    expect(result.stderr).toContain(`'${keyPath(smaller)}'`);
  });

  test('one key as before: no note on stderr', async () => {
    expect(await get(id, host.baseUrl, '--key', keyPath(right))).toEqual({ status: 0, stdout: `${PASSWORD}\n`, stderr: '' });
  });
});
