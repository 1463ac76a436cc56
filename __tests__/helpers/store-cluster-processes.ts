import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLUSTER_JS = join(ROOT, 'dist', 'examples', 'cluster.js');

/** One running `examples/cluster.ts` server (its primary and workers), on its own port. */
export interface ClusterServer {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  output(): string;
}

/** Fails with what to do when the built example is missing or older than its source. */
function checkBuilt(): void {
  const source = join(ROOT, 'examples', 'cluster.ts');
  if (!existsSync(CLUSTER_JS) || statSync(CLUSTER_JS).mtimeMs < statSync(source).mtimeMs) {
    throw new Error(`${CLUSTER_JS} is missing or older than examples/cluster.ts: run \`npm run build\` first.`);
  }
}

/**
 * Starts `node dist/examples/cluster.js` on `port` with `env` (the store's variables; REDIS_URL and
 * DATABASE_URL of this process are not passed on) and resolves once all its workers listen.
 */
export async function startClusterServer(port: number, env: Record<string, string>): Promise<ClusterServer> {
  checkBuilt();
  const inherited = { ...process.env };
  delete inherited.REDIS_URL;
  delete inherited.DATABASE_URL;
  const child = spawn(process.execPath, [CLUSTER_JS], {
    env: { ...inherited, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopServers() can end the workers with it.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cluster example did not start:\n${output}`)), 30_000);
    const onData = (): void => {
      if (!output.includes('cluster ready')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the cluster example exited with ${code}:\n${output}`));
    });
  });
  return { baseUrl: `http://127.0.0.1:${port}`, child, output: () => output };
}

/** Stops servers with SIGTERM, and their whole process group with SIGKILL if they linger. */
export async function stopClusterServers(servers: readonly ClusterServer[]): Promise<void> {
  await Promise.all(
    servers.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }),
  );
}
