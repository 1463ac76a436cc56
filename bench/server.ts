import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBackend, type BackendNames } from './backends';
import { handWrittenApp, nodeHttpListener } from './hand-written';
import { routerApp } from './router-app';
import type { Backend, Side } from './scenarios';

/** What a server process is told to serve, as its one argument (JSON). */
export interface ServerSpec {
  readonly side: Side;
  readonly backend: Backend;
  readonly names: BackendNames;
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
    spec.side === 'router' || spec.side === 'router-no-helmet'
      ? routerApp(backend, spec.side === 'router')
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

serve(JSON.parse(process.argv[2]) as ServerSpec).catch((error: unknown) => {
  process.send?.({ type: 'failed', message: String((error as Error)?.stack ?? error) } satisfies ServerMessage);
  process.exit(1);
});
