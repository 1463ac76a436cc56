import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { runBootStorm } from '../bench/boot-storm-load';

/**
 * The boot storm's client is an open loop: instances start on their schedule whatever the server
 * answers, and a request's latency counts from when it was due. A server that works through one
 * request at a time, slower than requests arrive, must show its whole backlog in the latencies; a
 * closed-loop client (the next request only after the last answer) would report each request's
 * service time alone.
 */

const SERVICE_MS = 20;

/** Answers every request 200 with `Connection: close`, one at a time, each after SERVICE_MS. */
function serialServer(): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  let queue = Promise.resolve();
  const server = createServer((socket: Socket) => {
    socket.once('data', (chunk: Buffer) => {
      requests.push(chunk.toString('latin1').split('\r\n')[0]);
      queue = queue.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
              resolve();
            }, SERVICE_MS),
          ),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, requests })),
  );
}

test('a server slower than the arrivals shows its backlog: latency counts from the scheduled start', async () => {
  const { server, port, requests } = await serialServer();
  try {
    // 50 instances in 0.5 s, two requests each: 2 s of serial work arriving in 0.5 s.
    const sample = await runBootStorm(port, 100, 0.5, 'storm-test');
    expect(sample.instances).toBe(50);
    expect(sample.errors).toBe(0);
    expect(sample.latenciesMs).toHaveLength(100);
    // Each instance GETs, then POSTs, on new connections.
    expect(requests.filter((line) => line.startsWith('GET /openstack/latest/password'))).toHaveLength(50);
    expect(requests.filter((line) => line.startsWith('POST /openstack/latest/password'))).toHaveLength(50);
    const sorted = [...sample.latenciesMs].sort((a, b) => a - b);
    // The last requests waited behind much of the 2 s of work (how much depends on how GETs and
    // POSTs interleave in the queue); a closed loop would read about SERVICE_MS.
    expect(sorted[sorted.length - 1]).toBeGreaterThan(25 * SERVICE_MS);
  } finally {
    server.close();
  }
}, 60_000);
