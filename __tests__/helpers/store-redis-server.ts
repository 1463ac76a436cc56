import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a server started with a config file (a sentinel's, which Sentinel rewrites) needs. */
export interface ConfigFile {
  /** The file's text; `{port}` is replaced by the server's port. */
  readonly text: string;
  /** The line of its log that says it is ready (default: a redis-server's). */
  readonly ready?: string;
}

/**
 * A redis-server of a test's own, on its own port and in a temporary directory, which the test may
 * kill and start again on the same port and data. Call `stop()` in afterAll.
 */
export class PrivateRedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'mdpw-redis-'));
  #process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly args: readonly string[],
    readonly config?: ConfigFile,
  ) {
    if (config) writeFileSync(join(this.dir, 'redis.conf'), config.text.replaceAll('{port}', String(port)));
  }

  /**
   * Starts a server with `args` added to its command line (e.g. persistence settings), from a
   * config file of its own when `config` is given.
   */
  static async start(args: readonly string[] = [], config?: ConfigFile): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), args, config);
    await server.restart();
    return server;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Kills the server with `signal` (SIGKILL: no chance to save anything) and waits for its exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /**
   * Starts the server (again) on the same port and directory, with `extraArgs` this time only (e.g.
   * `--replicaof`); resolves once it accepts commands.
   */
  async restart(extraArgs: readonly string[] = []): Promise<void> {
    const configFile = this.config ? [join(this.dir, 'redis.conf')] : [];
    const child = spawn(
      'redis-server',
      [...configFile, '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args, ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = this.config?.ready ?? 'Ready to accept connections';
    this.#process = child;
    // A test process that dies without afterAll must not leave a server behind.
    const stopWithUs = (): void => void child.kill('SIGKILL');
    process.once('exit', stopWithUs);
    child.once('exit', () => process.removeListener('exit', stopWithUs));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
    child.stdout?.resume();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
