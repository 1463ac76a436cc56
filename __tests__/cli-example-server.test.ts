import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encryptPassword } from '../lib/crypto';
import { requireBuiltCli, runCliProcess } from './helpers/cli-run';

const SERVER = resolve(__dirname, '../dist/examples/server.js');
const SECRET = 'cli-test-secret-0123456789abcdef';

interface Started {
  child: ChildProcess;
  base: string;
  instances: Array<{ name: string; id: string; projectId: string; keyFile: string }>;
  tokens: Array<{ projectId: string; role: string; token: string }>;
}

/** Starts `npm start`'s server on an ephemeral port and reads what it prints. */
function startExampleServer(keyDir: string): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', DEMO_KEY_DIR: keyDir, METADATA_PROXY_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the example server did not start: ${output}`)), 15_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!output.includes('As its owner')) return;
      clearTimeout(timer);
      const base = /demo on (http:\/\/\S+)/.exec(output)![1];
      const instances = [...output.matchAll(/^ {2}(\S+)\s+([0-9a-f-]{36})\s+project (\S+), key (\S+)$/gm)].map(
        ([, name, id, projectId, keyFile]) => ({ name, id, projectId, keyFile }),
      );
      const tokens = [...output.matchAll(/^ {2}(demo-\w) (reader|member)\s+(\S+)$/gm)].map(([, projectId, role, token]) => ({
        projectId,
        role,
        token,
      }));
      resolvePromise({ child, base, instances, tokens });
    });
    child.on('exit', (code) => reject(new Error(`the example server exited (${code}): ${output}`)));
  });
}

describe('metadata-password get against the running example server', () => {
  let keyDir: string;
  let server: Started;

  beforeAll(async () => {
    requireBuiltCli();
    keyDir = mkdtempSync(join(tmpdir(), 'mdpw-cli-example-'));
    server = await startExampleServer(keyDir);
  });

  afterAll(() => {
    server?.child.kill();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it("reads and decrypts the password a guest posted, and shows another project's 404", async () => {
    const [web] = server.instances;
    const publicKey = readFileSync(web.keyFile.replace(/\.pem$/, '.pub.pem'), 'utf8');
    const password = 'Ex4mple-server-password';
    const posted = await fetch(`${server.base}/openstack/latest/password`, {
      method: 'POST',
      headers: {
        'X-Instance-ID': web.id,
        'X-Tenant-ID': web.projectId,
        'X-Instance-ID-Signature': createHmac('sha256', SECRET).update(web.id).digest('hex'),
      },
      body: encryptPassword(password, publicKey),
    });
    expect(posted.status).toBe(200);

    const token = (projectId: string) => server.tokens.find((each) => each.projectId === projectId && each.role === 'reader')!.token;
    const args = ['get', '--url', `${server.base}/compute/v2.1`, '--server', web.id, '--key', web.keyFile];
    const read = await runCliProcess(args, { env: { OS_AUTH_TOKEN: token(web.projectId) } });
    expect(read).toEqual({ status: 0, stdout: `${password}\n`, stderr: '' });

    const other = await runCliProcess(args, { env: { OS_AUTH_TOKEN: token('demo-b') } });
    expect(other.status).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toMatch(/404/);
    expect(other.stderr).toMatch(/INSTANCE_NOT_FOUND|No such instance/);
  });
});
