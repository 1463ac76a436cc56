import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LoadSample } from './load';
import { CONNECTIONS } from './load';
import type { BenchRequest, Scenario } from './scenarios';

/** No answer within this long counts as an error, and its slot moves on. */
const REQUEST_TIMEOUT_MS = 10_000;

/** `request` as bytes on the wire, asking the server to close the connection after its answer. */
export function serialise({ method, path, headers, body }: BenchRequest): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

/** The status code of an HTTP/1.x answer from its first bytes, or 0 when there is none. */
function statusOf(head: Buffer | undefined): number {
  const match = head && /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1', 0, 16));
  return match ? Number(match[1]) : 0;
}

/**
 * Sends `request` on a new connection to `port`; resolves the answer's status once the server has
 * closed the connection, or 0 when it failed, timed out or sent no HTTP answer.
 */
export function exchange(port: number, request: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let head: Buffer | undefined;
    let failed = false;
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(request));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk: Buffer) => {
      head ??= chunk;
    });
    socket.on('error', () => {
      failed = true;
    });
    socket.on('close', () => resolve(failed ? 0 : statusOf(head)));
  });
}

/**
 * Loads the server on `port` with one new TCP connection per request (`Connection: close`), as
 * guest agents and metadata proxies do, `CONNECTIONS` requests in flight. A request's latency runs
 * from `connect()` to the server closing the connection, so it includes the handshake and the
 * accept. autocannon cannot do this: with `reconnectRate: 1` it sends nothing (version 9).
 */
export function runClosingLoad(port: number, scenario: Pick<Scenario, 'request' | 'fresh'>, seconds: number): Promise<LoadSample> {
  const fixed = scenario.fresh ? undefined : serialise(scenario.request());
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;

  const once = async (): Promise<void> => {
    const request = fixed ?? serialise(scenario.request());
    const sent = performance.now();
    const status = await exchange(port, request);
    if (status === 0) errors++;
    else {
      latencies.push(performance.now() - sent);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    }
  };

  const slot = async (): Promise<void> => {
    while (performance.now() < deadline) await once();
  };
  return Promise.all(Array.from({ length: CONNECTIONS }, slot)).then(() => ({
    seconds: (performance.now() - started) / 1000,
    latenciesMs: Float64Array.from(latencies),
    statusCounts,
    errors,
  }));
}
