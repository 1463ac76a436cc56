import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { freePort } from './free-port';
import { killOnExit, OWN_GROUP, stopProcess } from './processes';

/** A private Redis primary with one replica, for the `minReplicas: 1` rows. */
export interface ReplicatedRedis {
  /** The primary's URL. */
  readonly url: string;
  /** Stops both servers by PID and removes their directory. */
  stop(): Promise<void>;
}

/** Starts a private redis-server on `port` of 127.0.0.1 with its files in `dir`, no snapshots. */
export function startRedis(dir: string, port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...OWN_GROUP,
  });
  killOnExit(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
}

/** Starts a primary and one replica on free ports in a temp dir; resolves once the replica is in sync. */
export async function startReplicatedRedis(): Promise<ReplicatedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mdpw-bench-redis-'));
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopProcess(child, () => child.kill('SIGKILL'))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const primaryPort = await freePort();
    children.push(await startRedis(join(dir), primaryPort, []));
    const replicaDir = mkdtempSync(join(dir, 'replica-'));
    children.push(await startRedis(replicaDir, await freePort(), ['--replicaof', '127.0.0.1', String(primaryPort)]));
    const primary = new Redis(primaryPort, '127.0.0.1');
    try {
      while (!/^slave0:.*state=online/m.test(await primary.info('replication'))) await sleep(50);
    } finally {
      primary.disconnect();
    }
    return { url: `redis://127.0.0.1:${primaryPort}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
