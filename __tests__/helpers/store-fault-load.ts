import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPasswordRouter } from '../../lib/http/guest-router';
import { signedProxyIdentity, type ProxyPrincipal } from '../../lib/http/identity';
import { PasswordService } from '../../lib/core/service';
import type { Logger, PasswordStore } from '../../lib/types';

const PROXY_SECRET = 'store-faults-proxy-secret';

/** One guest request of a load, and what it was answered. */
export interface GuestAnswer {
  readonly instanceId: string;
  readonly method: 'GET' | 'POST';
  /** The POSTed password. */
  readonly body?: string;
  /** When the request was sent (Date.now()). */
  readonly sentAt: number;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly text: string;
  readonly ms: number;
}

/** A host app on 127.0.0.1 serving the guest router on `store` behind signed proxy headers. */
export interface GuestHost {
  readonly baseUrl: string;
  /** Store failures the service logged. */
  readonly errors: unknown[][];
  /** Sends one guest request for `instanceId`. */
  request(instanceId: string, method: 'GET' | 'POST', body?: string): Promise<GuestAnswer>;
  /** Answers the host's own route: proof the process is alive. */
  health(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a host app with one `PasswordService` (`format: 'text'`) on `store`. */
export async function startGuestHost(store: PasswordStore): Promise<GuestHost> {
  const errors: unknown[][] = [];
  const logger: Logger = { error: (...args) => errors.push(args), warn: (...args) => errors.push(args) };
  const service = new PasswordService({ store, format: 'text', logger });
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.use(
    '/openstack',
    createPasswordRouter<ProxyPrincipal>({
      service,
      logger,
      authenticate: signedProxyIdentity({ secret: PROXY_SECRET }),
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
    }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    errors,
    async request(instanceId, method, body) {
      const sentAt = Date.now();
      const response = await fetch(`${baseUrl}/openstack/latest/password`, {
        method,
        body,
        headers: {
          'X-Instance-ID': instanceId,
          'X-Tenant-ID': 'project-1',
          'X-Instance-ID-Signature': createHmac('sha256', PROXY_SECRET).update(instanceId).digest('hex'),
        },
      });
      const text = await response.text();
      const { status } = response;
      return { instanceId, method, body, sentAt, status, retryAfter: response.headers.get('retry-after'), text, ms: Date.now() - sentAt };
    },
    async health() {
      return (await fetch(`${baseUrl}/healthz`)).status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The requests of a load: for each instance, `posts` POSTs with different bodies and as many GETs, shuffled. */
export function planLoad(
  instances: number,
  posts: number,
): Array<{ instanceId: string; method: 'GET' | 'POST'; body?: string }> {
  const run = randomBytes(4).toString('hex');
  const plan = Array.from({ length: instances }, (_, i) => `instance-${run}-${i}`).flatMap((instanceId) =>
    Array.from({ length: posts }, (_, n) => [
      { instanceId, method: 'POST' as const, body: `password-${n}-${randomBytes(8).toString('hex')}` },
      { instanceId, method: 'GET' as const },
    ]).flat(),
  );
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  return plan;
}

/**
 * Sends `plan` through `host`, `concurrency` requests at a time, and calls `fault` (without waiting)
 * once `faultAfter` requests have been answered.
 */
export async function runLoad(
  host: GuestHost,
  plan: ReturnType<typeof planLoad>,
  options: { concurrency: number; faultAfter: number; fault: () => Promise<void> },
): Promise<{ answers: GuestAnswer[]; fault: Promise<void> }> {
  const answers: GuestAnswer[] = [];
  let next = 0;
  let fault: Promise<void> | undefined;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const { instanceId, method, body } = plan[next++];
      answers.push(await host.request(instanceId, method, body));
      if (!fault && answers.length >= options.faultAfter) fault = options.fault();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { answers, fault: fault ?? options.fault() };
}

/**
 * What every load under a fault must show: only 200, 409 and 503 (with `Retry-After` and
 * `STORE_UNAVAILABLE`); at most one 200 POST per instance; a GET that returned a value returned one
 * of that instance's POSTed bodies. Returns the body of each instance's 200 POST.
 */
export function checkAnswers(answers: readonly GuestAnswer[]): Map<string, string> {
  const statuses = new Set(answers.map((answer) => answer.status));
  expect([...statuses].filter((status) => ![200, 409, 503].includes(status))).toEqual([]);
  for (const answer of answers.filter((a) => a.status === 503)) {
    expect(answer.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  }
  const winners = new Map<string, string>();
  for (const answer of answers.filter((a) => a.method === 'POST' && a.status === 200)) {
    expect(winners.has(answer.instanceId)).toBe(false);
    winners.set(answer.instanceId, answer.body ?? '');
  }
  const posted = new Set(answers.filter((a) => a.method === 'POST').map((a) => `${a.instanceId} ${a.body}`));
  for (const answer of answers.filter((a) => a.method === 'GET' && a.status === 200 && a.text !== '')) {
    expect(posted.has(`${answer.instanceId} ${answer.text}`)).toBe(true);
  }
  return winners;
}

/** Counts answers by status, for the failure messages. */
export function countStatuses(answers: readonly GuestAnswer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
