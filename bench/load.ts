import autocannon from 'autocannon';
import type { Scenario } from './scenarios';

/** Few connections and no pipelining: on two cores the load generator competes with the server. */
export const CONNECTIONS = 10;
export const PIPELINING = 1;

/** What one autocannon run against one server saw. */
export interface LoadSample {
  readonly seconds: number;
  /** Every response's latency in milliseconds (microsecond resolution). */
  readonly latenciesMs: Float64Array;
  readonly statusCounts: Record<string, number>;
  /** Connection errors and timeouts. */
  readonly errors: number;
}

/** Loads the server on `port` with `scenario`'s requests for `seconds`. */
export function runLoad(port: number, scenario: Pick<Scenario, 'request' | 'fresh'>, seconds: number): Promise<LoadSample> {
  const { method, path, headers, body } = scenario.request();
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration: seconds,
        requests: [
          {
            method,
            path,
            headers,
            body,
            ...(scenario.fresh && { setupRequest: (request) => ({ ...request, ...scenario.request() }) }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error as Error);
        const statusCounts: Record<string, number> = {};
        for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = count ?? 0;
        resolve({
          seconds: result.duration,
          latenciesMs: Float64Array.from(latencies),
          statusCounts,
          errors: result.errors + result.timeouts,
        });
      },
    );
    // autocannon's own histogram keeps whole milliseconds; this keeps each response's exact time.
    // The event passes the client first, which @types/autocannon leaves out.
    (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
  });
}
