import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BackendNames } from './backends';
import { startServer, type RunningServer } from './children';
import { startNova } from './nova-peer';
import { ownCores, pinSelf, pinTree } from './processes';
import { setupOf, type Backend, type ServerSetup, type Side } from './scenarios';

/** Everything a side's servers need: the backends' names, the peer's Python, profiling, Node flags. */
export interface ServerContext {
  readonly names: BackendNames;
  readonly novaPython?: string;
  readonly cpuProfileDir?: string;
  /** Extra Node flags for the package's and the hand-written servers (`--server-flags`). */
  readonly serverFlags?: readonly string[];
}

/** Starts one side on `backend`; `label` names it in errors and in the CPU profile's folder. */
export function startSide(label: string, side: Side | ServerSetup, backend: Backend, context: ServerContext): Promise<RunningServer> {
  const setup = setupOf(side);
  const processes = setup.processes === 'cores' ? availableParallelism() : 1;
  if (setup.side === 'nova-sync' || setup.side === 'nova-gthread') {
    if (!context.novaPython) throw new Error(`${label} needs --peer nova`);
    return startNova({ python: context.novaPython, worker: setup.side === 'nova-sync' ? 'sync' : 'gthread', processes });
  }
  const profileDir = context.cpuProfileDir && join(context.cpuProfileDir, label, setup.side);
  const spec = { side: setup.side, backend, names: context.names, processes, scheduling: setup.scheduling };
  return startServer(spec, { cpuProfileDir: profileDir, flags: context.serverFlags });
}

/**
 * Pins `servers` to core 1 and this process (the load generator) to core 0, on a machine with two
 * cores or more, when `pinned`; returns how to undo it.
 */
export function pinApart(label: string, pinned: boolean | undefined, servers: readonly RunningServer[]): () => void {
  const cores = availableParallelism();
  if (!pinned || cores < 2) return () => undefined;
  const before = ownCores();
  const ok = before !== undefined && pinSelf('0') && servers.every((server) => pinTree(server.pid, '1'));
  if (!ok) console.warn(`${label}: not pinned (taskset, from util-linux, is missing)`);
  return () => void (before && pinSelf(before));
}
