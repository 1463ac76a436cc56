import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { treePids } from '../bench/processes';

/**
 * An aborted bench leaves no server behind: every process a row started (gunicorn's arbiter and
 * workers, the node:cluster primary and workers) is gone within moments of the bench's exit, not
 * when an orphaned worker happens to notice its parent died. Runs the built bench (`npm run build`).
 */

const RUN = join(__dirname, '..', 'dist', 'bench', 'run.js');
const NOVA_IMPORTABLE =
  spawnSync('/usr/bin/python3', ['-c', 'import gunicorn, nova.api.metadata.handler'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Alive and not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Starts the bench on one row and resolves, once `servers` processes of it run, their ids. */
async function benchWithServers(row: string, serverCommand: RegExp, servers: number): Promise<{ bench: ChildProcess; pids: number[] }> {
  const bench = spawn(process.execPath, [RUN, '--peer', 'nova', '--only', row, '--no-memory', '--quick'], { stdio: 'ignore' });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const pids = treePids(bench.pid as number).filter((pid) => serverCommand.test(commandLine(pid)));
    if (pids.length >= servers) return { bench, pids };
    await sleep(100);
  }
  bench.kill('SIGKILL');
  throw new Error(`${row}: fewer than ${servers} server processes within 90 s`);
}

async function abortAndSurvivors(bench: ChildProcess, pids: readonly number[]): Promise<number[]> {
  const exited = new Promise((resolve) => bench.once('exit', resolve));
  bench.kill('SIGTERM');
  await exited;
  // The bench kills its servers as it exits; give the kernel a moment to reap them.
  await sleep(1_500);
  return pids.filter(alive);
}

// Nova's handler is a peer of the benchmarks only, never something the tests install: where it is
// missing, its row is skipped with this reason, even under REQUIRE_SERVICES.
const describeWithNova = NOVA_IMPORTABLE ? describe : describe.skip;
if (!NOVA_IMPORTABLE) {
  console.warn("Skipping the Nova peer's abort test: python3-nova and gunicorn (the bench's Nova peer) are not installed.");
}

describe('an aborted bench', () => {
  beforeAll(() => {
    if (!existsSync(RUN)) throw new Error(`${RUN} is missing: run npm run build first`);
  });

  describeWithNova('with the Nova peer', () => {
    test('SIGTERM during a gunicorn row leaves neither the arbiter nor a worker running', async () => {
      const cores = availableParallelism();
      // The arbiter and its workers: one gunicorn command line per process.
      const { bench, pids } = await benchWithServers('nova-sync-close-cores', /gunicorn/, 1 + cores);
      expect(await abortAndSurvivors(bench, pids)).toEqual([]);
    }, 180_000);
  });

  test('SIGTERM during a node:cluster row leaves neither the primary nor a worker running', async () => {
    const { bench, pids } = await benchWithServers('cluster-close', /server\.js/, 3);
    expect(await abortAndSurvivors(bench, pids)).toEqual([]);
  }, 180_000);
});
