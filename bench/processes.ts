import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A server of several processes (a node:cluster primary and its workers, gunicorn's arbiter and its
 * workers) seen through Linux's /proc: which processes it is, what CPU time they used, and pinning
 * them to cores.
 */

/** Linux's USER_HZ: /proc counts CPU time in these ticks (100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly pid: number;
  readonly parent: number;
  readonly cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name, in parentheses, may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, parent: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process ended while the list was read
  }
}

/** `root` and every process descended from it. */
function tree(root: number): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return []; // not Linux: no CPU times, no pinning
  }
  const all = names
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const members = new Set([root]);
  // Parents may be listed after their children: repeat until no process joins.
  for (let grown = true; grown; ) {
    grown = false;
    for (const stat of all) {
      if (!members.has(stat.pid) && members.has(stat.parent)) {
        members.add(stat.pid);
        grown = true;
      }
    }
  }
  return all.filter((stat) => members.has(stat.pid));
}

/** The ids of `root` and every process descended from it, now. */
export function treePids(root: number): number[] {
  return tree(root).map((stat) => stat.pid);
}

/** The CPU time (user + system) of `root` and its descendants, in microseconds (10 ms resolution). */
export function treeCpuMicros(root: number): number {
  return tree(root).reduce((sum, stat) => sum + (stat.cpuTicks * 1_000_000) / TICKS_PER_SECOND, 0);
}

/**
 * Pins `root` and its descendants, every thread, to `cores` (taskset's list, e.g. "1" or "0-1").
 * Returns false, changing nothing, where taskset is missing.
 */
export function pinTree(root: number, cores: string): boolean {
  try {
    for (const { pid } of tree(root)) execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The cores this process may run on (taskset's list), or undefined where taskset is missing. */
export function ownCores(): string | undefined {
  try {
    const output = execFileSync('taskset', ['--cpu-list', '--pid', String(process.pid)], { encoding: 'utf8' });
    return /:\s*(\S+)\s*$/.exec(output)?.[1];
  } catch {
    return undefined;
  }
}

/** Pins this process (every thread) to `cores`; false where taskset is missing. */
export function pinSelf(cores: string): boolean {
  try {
    execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** How long a server process may take to stop before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Kills `child` and every process it started (gunicorn's workers, node:cluster's workers) with
 * SIGKILL. The child must lead its own process group (`spawn`/`fork` with `detached: true`): a
 * worker whose parent died is re-parented to init and no longer in the parent's tree, but still in
 * its group. Synchronous, so it can run in a process `'exit'` handler.
 */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone already (ESRCH), or the child does not lead one: kill what can still be reached.
    child.kill('SIGKILL');
  }
}

const started = new Set<ChildProcess>();

// However the bench ends (an error, a signal that its handler turns into exit()), no server outlives it.
process.on('exit', () => {
  for (const child of started) killGroup(child);
});

/**
 * Options for `spawn`/`fork` of a server: its own process group, so `killGroup` reaches every
 * process it starts.
 */
export const OWN_GROUP = { detached: true } as const;

/** Kills `child`'s process group when this process exits, unless `stopProcess` stopped it first. */
export function killOnExit(child: ChildProcess): void {
  started.add(child);
}

/**
 * Asks `child` to stop (`ask`), kills its whole process group with SIGKILL if it lingers, and
 * resolves once it has exited and its group is gone (a worker it left behind is killed).
 */
export function stopProcess(child: ChildProcess, ask: () => void): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  if (exited) {
    killGroup(child);
    started.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(child), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      killGroup(child);
      started.delete(child);
      resolve();
    });
    ask();
  });
}
