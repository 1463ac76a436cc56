import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestHost } from './store-fault-load';

/** Pause between an agent's attempts after a 503 or a connection error. */
const RETRY_DELAY_MS = 100;

/** One fresh instance's password, posted as cloudbase-init posts it, and the final answer. */
export interface Posting {
  readonly instanceId: string;
  readonly value: string;
  /** 200 stored, 409 already set (an earlier attempt of its own landed). */
  readonly status: 200 | 409;
  /** Whether the first attempt was sent after the failover completed. */
  readonly afterFailover: boolean;
}

/** The counts a failover proof prints. */
export interface FailoverCounts {
  readonly ok: number;
  readonly conflict: number;
  /** 503 answers, each retried. */
  readonly unavailable: number;
  /** Requests that failed without an answer, each retried. */
  readonly connectionErrors: number;
  /** Instances answered 200 whose value is not read back exactly. */
  readonly lost: number;
  /** Instances answered 409 whose own value is not read back (informational). */
  readonly conflictNotReadable: number;
}

/** What the agents met on their way, counted as it happens. */
interface Tally {
  unavailable: number;
  connectionErrors: number;
  /** When the last 503 was answered (Date.now()). */
  lastUnavailableAt?: number;
}

/**
 * POSTs `value` for `instanceId` until it is answered 200 or 409, retrying 503 and connection
 * errors as cloudbase-init does (the same value each time); any other answer fails the proof.
 */
async function post(host: GuestHost, instanceId: string, value: string, tally: Tally, deadline: number): Promise<200 | 409> {
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no 200 or 409 for ${instanceId} before the proof's deadline`);
    try {
      const { status, text } = await host.request(instanceId, 'POST', value);
      if (status === 200 || status === 409) return status;
      if (status !== 503) throw new Error(`POST ${instanceId} was answered ${status}: ${text}`);
      tally.unavailable++;
      tally.lastUnavailableAt = Date.now();
    } catch (error) {
      if ((error as Error).message.startsWith('POST ')) throw error;
      tally.connectionErrors++;
    }
    await sleep(RETRY_DELAY_MS);
  }
}

/** GETs `instanceId` until it is answered 200, retrying 503 (the store may still be settling). */
async function read(host: GuestHost, instanceId: string, deadline: number): Promise<string> {
  for (;;) {
    const { status, text } = await host.request(instanceId, 'GET');
    if (status === 200) return text;
    if (status !== 503 || Date.now() > deadline) throw new Error(`GET ${instanceId} was answered ${status}: ${text}`);
    await sleep(RETRY_DELAY_MS);
  }
}

/**
 * Runs `clients` agents, each posting passwords for fresh instances one after another. Once
 * `beforeFault` instances are answered, calls `failover()` (kill the primary, wait for the
 * promotion); the load goes on until `afterFault` instances first posted after it are answered 200.
 * Then reads every instance back through `host` and counts what was lost.
 */
export async function proveFailover(
  host: GuestHost,
  options: { clients: number; beforeFault: number; afterFault: number; failover: () => Promise<void>; deadlineMs: number },
): Promise<{ counts: FailoverCounts; postings: Posting[]; lastUnavailableAt: number | undefined }> {
  const deadline = Date.now() + options.deadlineMs;
  const run = randomBytes(4).toString('hex');
  const postings: Posting[] = [];
  const tally: Tally = { unavailable: 0, connectionErrors: 0 };
  let failover: Promise<void> | undefined;
  let failedOver = false;
  let failure: unknown;
  let next = 0;
  const okAfter = (): number => postings.filter((p) => p.afterFailover && p.status === 200).length;
  const agent = async (): Promise<void> => {
    while (okAfter() < options.afterFault) {
      const instanceId = `failover-${run}-${next++}`;
      const value = `password-${randomBytes(12).toString('base64')}`;
      const afterFailover = failedOver;
      const status = await post(host, instanceId, value, tally, deadline);
      postings.push({ instanceId, value, status, afterFailover });
      if (!failover && postings.length >= options.beforeFault) {
        failover = options.failover().then(
          () => {
            failedOver = true;
          },
          (error: unknown) => {
            failure = error;
          },
        );
      }
      if (failure) throw failure;
      if (failover && !failedOver && Date.now() > deadline) throw new Error('the failover did not complete in time');
    }
  };
  await Promise.all(Array.from({ length: options.clients }, agent));
  await failover;
  if (failure) throw failure;
  let lost = 0;
  let conflictNotReadable = 0;
  let unread = 0;
  const reader = async (): Promise<void> => {
    while (unread < postings.length) {
      const { instanceId, value, status } = postings[unread++];
      const stored = await read(host, instanceId, deadline);
      if (stored === value) continue;
      if (status === 200) lost++;
      else conflictNotReadable++;
    }
  };
  await Promise.all(Array.from({ length: options.clients }, reader));
  const counts: FailoverCounts = {
    ok: postings.filter((p) => p.status === 200).length,
    conflict: postings.filter((p) => p.status === 409).length,
    unavailable: tally.unavailable,
    connectionErrors: tally.connectionErrors,
    lost,
    conflictNotReadable,
  };
  return { counts, postings, lastUnavailableAt: tally.lastUnavailableAt };
}

/** One line for the test's output: what the proof counted. */
export function describeCounts(name: string, { ok, conflict, unavailable, connectionErrors, lost, conflictNotReadable }: FailoverCounts): string {
  return (
    `${name}: 200 ${ok}, 409 ${conflict}, 503 ${unavailable} (retried), connection errors ${connectionErrors} (retried), ` +
    `lost ${lost} (of the 200s), 409 not readable ${conflictNotReadable}`
  );
}
