import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBackend, type BackendNames } from './backends';
import { handWrittenApp, nodeHttpListener } from './hand-written';
import { routerApp } from './router-app';
import type { Backend, Scheduling, Side } from './scenarios';

/** What a server process is told to serve, as its one argument (JSON). */
export interface ServerSpec {
  readonly side: Side;
  readonly backend: Backend;
  readonly names: BackendNames;
  /** More than one: a node:cluster primary with this many workers, sharing the port by `scheduling`. */
  readonly processes?: number;
  readonly scheduling?: Scheduling;
}

/** Messages between the bench and a server process. */
export type ServerMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'cpu'; micros: number };
export type ControlMessage = { type: 'stop' } | { type: 'cpu' };

async function serve(spec: ServerSpec): Promise<void> {
  const backend = await openBackend(spec.backend, spec.names);
  const listener =
    spec.side === 'router' || spec.side === 'router-no-helmet' || spec.side === 'router-public-key'
      ? routerApp(backend, { helmet: spec.side !== 'router-no-helmet', publicKey: spec.side === 'router-public-key' })
      : spec.side === 'express'
        ? handWrittenApp(backend)
        : nodeHttpListener(backend);
  const server = createServer(listener);
  // Exiting through process.exit lets --cpu-prof write its profile.
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    void backend.close().finally(() => process.exit(0));
  };
  process.on('message', (message: ControlMessage) => {
    if (message.type === 'stop') return stop();
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: user + system } satisfies ServerMessage);
  });
  process.on('disconnect', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port } satisfies ServerMessage);
  });
}

/** Tells the bench this server cannot run, and ends. */
function fail(message: string): void {
  process.send?.({ type: 'failed', message } satisfies ServerMessage);
  process.exit(1);
}

/** A node:cluster primary: forks the workers, then reports their shared port once all listen. */
function superviseWorkers(processes: number, scheduling: Scheduling | undefined): void {
  // Set before the first fork: it decides how the workers' listen() is served.
  cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  let stopping = false;
  const ports: number[] = [];
  for (let i = 0; i < processes; i++) {
    cluster.fork().on('message', (message: ServerMessage) => {
      if (message.type === 'failed') return fail(message.message);
      if (message.type !== 'listening') return;
      ports.push(message.port);
      if (ports.length < processes) return;
      if (new Set(ports).size > 1) return fail(`the workers listen on different ports: ${ports.join(', ')}`);
      process.send?.({ type: 'listening', port: message.port } satisfies ServerMessage);
    });
  }
  // A worker that dies mid-run ends the primary, so the bench fails the run.
  cluster.on('exit', () => stopping || process.exit(1));
  const stop = (): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  };
  // The bench reads a cluster's CPU time from /proc, all its processes together.
  process.on('message', (message: ControlMessage) => message.type === 'stop' && stop());
  process.on('disconnect', stop);
}

const spec = JSON.parse(process.argv[2]) as ServerSpec;
if (cluster.isPrimary && (spec.processes ?? 1) > 1) superviseWorkers(spec.processes ?? 1, spec.scheduling);
else serve(spec).catch((error: unknown) => {
  process.send?.({ type: 'failed', message: String((error as Error)?.stack ?? error) } satisfies ServerMessage);
  process.exit(1);
});
