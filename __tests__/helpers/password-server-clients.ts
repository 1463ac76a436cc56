import { execFile, spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import express from 'express';
import { createPasswordServerRouter, type PasswordResetService } from '../../lib';

/** Debian's Python, where the packages `cloud-init` and `python3-novaclient` install. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function clientsInstalled(): boolean {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import cloudinit.sources.DataSourceCloudStack, novaclient, keystoneauth1'], { timeout: 20_000 });
  return probe.status === 0 && spawnSync('wget', ['--version'], { timeout: 5000 }).status === 0;
}

/**
 * `describe` for suites that drive the real agents: skipped with a printed reason when cloud-init,
 * python3-novaclient or wget are not installed, unless `REQUIRE_SERVICES=1`, when it runs and fails.
 */
export function describeWithClients(): jest.Describe {
  if (process.env.REQUIRE_SERVICES === '1' || clientsInstalled()) return describe;
  console.warn(
    'Skipping the password-server client suites: cloud-init, python3-novaclient or wget is not installed ' +
      '(apt-get install -y cloud-init python3-novaclient wget; set REQUIRE_SERVICES=1 to fail instead).',
  );
  return describe.skip;
}

/** Runs `script` with Debian's Python; resolves its standard output, rejects with its standard error. */
export function runPython(script: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SYSTEM_PYTHON, ['-c', script, ...args], { timeout: 120_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python exited ${String(error.code)}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(stdout.trim());
    });
  });
}

/** Runs a command; resolves its exit code and standard output. */
export function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 120_000 }, (error, stdout) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout });
    });
  });
}

/**
 * A password server as CloudStack's: the guest is who its source address says (`guests`, address
 * to instance id), as the agents cannot send anything else. Safe only where the guest network
 * drops spoofed addresses; here it is loopback.
 */
export function passwordServerApp(resets: PasswordResetService, guests: ReadonlyMap<string, string>): express.Express {
  const app = express();
  app.use(
    createPasswordServerRouter({
      resets,
      authenticate: (req) => {
        const instanceId = guests.get(req.socket.remoteAddress ?? '');
        return instanceId === undefined ? null : { instanceId };
      },
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
    }),
  );
  return app;
}

/** Listens on `host:port`; rejects with the listen error (EADDRINUSE). */
export function listenOn(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/**
 * Listens on port 8080 of a loopback address nobody uses yet (127.0.0.2 to 127.0.0.254, from a
 * random start): cloud-init's CloudStack client asks `<router address>:8080` and takes no port.
 */
export async function listenOnPort8080(app: express.Express): Promise<{ server: Server; address: string }> {
  const start = 2 + Math.floor(Math.random() * 200);
  let lastError: unknown;
  for (let offset = 0; offset < 50; offset++) {
    const address = `127.0.0.${2 + ((start - 2 + offset) % 253)}`;
    try {
      return { server: await listenOn(app, 8080, address), address };
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`no loopback address had port 8080 free (is something listening on 0.0.0.0:8080?): ${String(lastError)}`);
}

/** Closes `server` and its connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
