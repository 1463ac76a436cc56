import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { killGroup, killOnExit, OWN_GROUP, stopProcess, treeCpuMicros } from './processes';
import type { ControlMessage, ServerMessage, ServerSpec } from './server';

const START_TIMEOUT_MS = 15_000;
/** A server process listening on an ephemeral port of 127.0.0.1. */
export interface RunningServer {
  readonly port: number;
  /** The server's process; for a server of several processes, their parent. */
  readonly pid: number;
  /** The server's CPU time so far (user + system, every process of it), in microseconds. */
  cpuMicros(): Promise<number>;
  /** Asks the process to exit (so a CPU profile is written), killing it if it does not. */
  stop(): Promise<void>;
}

/** How to run a server's Node: under `--cpu-prof` into `cpuProfileDir`, with extra `flags`. */
export interface NodeSettings {
  readonly cpuProfileDir?: string;
  readonly flags?: readonly string[];
}

/** Forks `dist/bench/server.js` for `spec`, with `settings`' Node flags. */
export function startServer(spec: ServerSpec, { cpuProfileDir, flags = [] }: NodeSettings = {}): Promise<RunningServer> {
  const execArgv = [...flags, ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [])];
  const child = fork(join(__dirname, 'server.js'), [JSON.stringify(spec)], { execArgv, ...OWN_GROUP });
  killOnExit(child);

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child);
      reject(new Error(`The ${spec.side} server (${spec.backend}, ${spec.processes ?? 1} processes) did not start: ${reason}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('exit', (code) => fail(`it exited with code ${code}`));
    child.on('error', (error) => fail(error.message));
    child.once('message', (message: ServerMessage) => {
      if (message.type !== 'listening') return fail(message.type === 'failed' ? message.message : 'no port');
      settled = true;
      clearTimeout(timer);
      const pid = child.pid as number;
      const clustered = (spec.processes ?? 1) > 1;
      resolve({
        port: message.port,
        pid,
        cpuMicros: clustered ? () => Promise.resolve(treeCpuMicros(pid)) : () => cpuMicros(child),
        stop: () => stopChild(child),
      });
    });
  });
}

function cpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServerMessage): void => {
      if (message.type !== 'cpu') return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message.micros);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`a server process exited with code ${code} during the run`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ type: 'cpu' } satisfies ControlMessage);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return stopProcess(child, () => child.send({ type: 'stop' } satisfies ControlMessage));
}
