import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { INSTANCE_ID, PROJECT_ID, PROXY_SECRET, STORED_PASSWORD, STORM_PREFIX } from './fixtures';
import type { RunningServer } from './children';
import { killGroup, killOnExit, OWN_GROUP, stopProcess, treeCpuMicros } from './processes';

/** How to get the peer, for the message shown when it is missing. */
export const NOVA_INSTALL = 'sudo apt-get install -y python3-nova gunicorn (Debian 12: Nova 26.2 "Zed", gunicorn 20.1)';

/** The WSGI entry file: Nova's handler with only the database lookup stubbed (see its docstring). */
const WSGI_DIR = join(__dirname, '..', '..', 'bench', 'nova');
/** gunicorn's gthread worker: threads per process (Nova's own uwsgi and mod_wsgi setups use a few). */
export const GTHREADS = 4;
const START_TIMEOUT_MS = 60_000;

/** Interpreters to try, Debian's first: a pyenv or venv `python3` earlier on PATH lacks Debian's packages. */
const PYTHONS = [process.env.NOVA_PYTHON, '/usr/bin/python3', 'python3'].filter((python): python is string => !!python);

/** The Python that has Nova's metadata handler and gunicorn, or why none has. */
export function findNovaPython(): { python: string } | { missing: string } {
  for (const python of PYTHONS) {
    const probe = spawnSync(python, ['-c', 'import gunicorn, nova.api.metadata.handler'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return { python };
  }
  return { missing: `Nova's metadata handler and gunicorn are not importable from ${PYTHONS.join(' or ')}; install them: ${NOVA_INSTALL}` };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a Nova server runs: gunicorn's worker class, and how many worker processes. */
export interface NovaSetup {
  readonly python: string;
  readonly worker: 'sync' | 'gthread';
  readonly processes: number;
}

/**
 * Starts Nova's metadata handler under gunicorn on an ephemeral port of 127.0.0.1, with the
 * password of `INSTANCE_ID` and the bench's proxy secret. The app is loaded once, before the workers
 * are forked (`--preload`), so every worker starts with the metadata cache filled.
 */
export async function startNova({ python, worker, processes }: NovaSetup): Promise<RunningServer> {
  const port = await freePort();
  const args = ['-m', 'gunicorn', '--chdir', WSGI_DIR, '--bind', `127.0.0.1:${port}`, '--workers', String(processes)];
  args.push('--worker-class', worker, ...(worker === 'gthread' ? ['--threads', String(GTHREADS)] : []));
  args.push('--preload', '--log-level', 'warning', 'wsgi:application');
  const env = {
    ...process.env,
    BENCH_PROXY_SECRET: PROXY_SECRET,
    BENCH_INSTANCE_ID: INSTANCE_ID,
    BENCH_PROJECT_ID: PROJECT_ID,
    BENCH_PASSWORD: STORED_PASSWORD,
    BENCH_STORM_PREFIX: STORM_PREFIX,
  };
  // Its own process group: an abort kills the arbiter and every worker, even one the arbiter left.
  const child = spawn(python, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...OWN_GROUP });
  killOnExit(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      killGroup(child);
      throw new Error(`Nova under gunicorn (${worker}, ${processes} processes) did not start:\n${log}`);
    }
    await sleep(100);
  }
  const pid = child.pid as number;
  return {
    port,
    pid,
    cpuMicros: async () => {
      if (child.exitCode !== null) throw new Error(`gunicorn exited with code ${child.exitCode} during the run:\n${log}`);
      return treeCpuMicros(pid);
    },
    stop: () => stopGunicorn(child),
  };
}

/** gunicorn's quick shutdown (SIGQUIT), then SIGKILL if it lingers. */
function stopGunicorn(child: ChildProcess): Promise<void> {
  return stopProcess(child, () => child.kill('SIGQUIT'));
}
