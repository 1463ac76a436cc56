import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  ) {}

  /** Starts a server with `args` added to its command line (e.g. persistence settings). */
  static async start(args: readonly string[] = []): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), args);
    await server.restart();
    return server;
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

  /** Starts the server (again) on the same port and directory; resolves once it accepts commands. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
        if (output.includes('Ready to accept connections')) {
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
