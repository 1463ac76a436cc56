import { performance } from 'node:perf_hooks';
import { exchange, serialise } from './closing-load';
import { ciphertext, GUEST_PATH, guestHeaders } from './fixtures';

/** How often the client looks for instances whose start is due (it starts every one that is). */
const TICK_MS = 1;

/** What one step of a boot storm saw: every request's latency, and what went wrong. */
export interface StormSample {
  /** Instances started per second. */
  readonly rate: number;
  readonly instances: number;
  /**
   * Every answered request's latency in milliseconds: a GET's from its instance's scheduled start,
   * the POST's from the GET's answer (when the agent sends it).
   */
  readonly latenciesMs: Float64Array;
  /** Requests that failed, timed out, or were answered other than 200. */
  readonly errors: number;
}

// One ciphertext for every instance: the value is still checked on every POST.
const postedValue = ciphertext();

/**
 * A boot storm against the server on `port`: `rate` instances a second for `seconds`, started on a
 * fixed schedule whatever the answers (an open loop), each one as cloudbase-init behind the
 * metadata proxy: GET its password (none yet), then POST it, each on a new connection with the
 * proxy's signed headers. A request's latency counts from when it was due, so a server that falls
 * behind shows it in full (no coordinated omission).
 */
export async function runBootStorm(port: number, rate: number, seconds: number, idPrefix: string): Promise<StormSample> {
  const instances = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let errors = 0;
  const boot = async (index: number, due: number): Promise<void> => {
    const headers = guestHeaders(`${idPrefix}-${index}`);
    const get = serialise({ method: 'GET', path: GUEST_PATH, headers });
    const post = serialise({
      method: 'POST',
      path: GUEST_PATH,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: postedValue,
    });
    if ((await exchange(port, get)) !== 200) {
      errors++;
      return;
    }
    const answered = performance.now();
    latencies.push(answered - due);
    if ((await exchange(port, post)) !== 200) errors++;
    else latencies.push(performance.now() - answered);
  };

  const booting: Promise<void>[] = [];
  const start = performance.now() + 10;
  const interval = 1000 / rate;
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      for (; next < instances && start + next * interval <= now; next++) booting.push(boot(next, start + next * interval));
      if (next < instances) setTimeout(tick, TICK_MS);
      else resolve();
    };
    setTimeout(tick, TICK_MS);
  });
  await Promise.all(booting);
  return { rate, instances, latenciesMs: Float64Array.from(latencies), errors };
}
