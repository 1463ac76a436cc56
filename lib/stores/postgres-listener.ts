import type { Notification, Pool, QueryConfig } from 'pg';
import { WriteWaiters } from '../core/write-waiters';
import { checkOut, type Lease } from './postgres-lease';
import { storeError } from './store-error';

/**
 * The waiters of a `PostgresStore` and the one pooled connection they listen on: checked out and
 * `LISTEN`ing on the store's channel while anyone waits, `UNLISTEN`ed and given back to the pool
 * when no one does. Each write `NOTIFY`s the channel with the instance id in its own statement.
 *
 * Checking the connection out and `LISTEN` must succeed within the store's deadline, else the
 * waiters fail (the router answers 503); so do they when the listening connection fails, since the
 * notifications sent meanwhile are lost. The next wait checks out a new connection.
 */
export class PostgresListener {
  readonly #pool: Pool;
  readonly #channel: string;
  readonly #timeoutMs: number;
  readonly #waiters = new WriteWaiters({ onFirst: () => this.#reconcile(), onLast: () => this.#reconcile() });
  #listening: { readonly lease: Lease; readonly stop: () => void } | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(pool: Pool, channel: string, timeoutMs: number) {
    this.#pool = pool;
    this.#channel = channel;
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves at the next notification for `id` (or once `LISTEN` took effect); see the class. */
  wait(id: string, signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('The store was closed.'));
    return this.#waiters.wait(id, signal);
  }

  /** Ends every wait and gives the listening connection back. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiters.failAll(new Error('The store was closed.'));
    this.#reconcile();
    await this.#running;
  }

  /** Listens while someone waits and stops when no one does, one change at a time. */
  #reconcile(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    let resolveRun = (): void => {};
    this.#running = new Promise((resolve) => (resolveRun = resolve));
    void (async () => {
      try {
        do {
          this.#again = false;
          const wanted = this.#waiters.keyCount > 0 && !this.#closed;
          if (wanted && !this.#listening) await this.#listen();
          else if (!wanted && this.#listening) await this.#unlisten();
        } while (this.#again);
      } finally {
        this.#running = undefined;
        resolveRun();
      }
    })();
  }

  async #listen(): Promise<void> {
    let lease: Lease | undefined;
    try {
      lease = await this.#checkOut();
      const { client } = lease;
      const onNotification = (message: Notification): void => {
        if (message.channel === this.#channel && message.payload !== undefined) this.#waiters.wake(message.payload);
      };
      const onFailure = (error?: Error): void => this.#lost(error ?? new Error('The PostgreSQL connection for waiting ended.'));
      client.on('notification', onNotification);
      client.on('error', onFailure);
      client.on('end', onFailure);
      const stop = (): void => {
        client.removeListener('notification', onNotification);
        client.removeListener('error', onFailure);
        client.removeListener('end', onFailure);
      };
      this.#listening = { lease, stop };
      await client.query(withDeadline(`LISTEN "${this.#channel}"`, this.#timeoutMs));
      // Whoever started waiting before now may have missed a write: read again.
      if (this.#listening?.lease === lease) this.#waiters.wakeAll();
    } catch (error) {
      if (lease && this.#listening?.lease !== lease) return;
      this.#lost(error as Error, lease);
    }
  }

  /** A pooled connection within the deadline; one handed out later goes straight back. */
  #checkOut(): Promise<Lease> {
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new Error(`PostgreSQL handed out no connection for waiting within ${this.#timeoutMs} ms.`));
      }, this.#timeoutMs);
      checkOut(this.#pool, (error, lease) => {
        clearTimeout(timer);
        if (late) return lease?.release();
        if (lease === undefined) reject(error ?? new Error('The pool handed out no connection.'));
        else resolve(lease);
      });
    });
  }

  async #unlisten(): Promise<void> {
    const listening = this.#listening;
    if (!listening) return;
    this.#listening = undefined;
    listening.stop();
    try {
      await listening.lease.client.query(withDeadline('UNLISTEN *', this.#timeoutMs));
      listening.lease.release();
    } catch (error) {
      listening.lease.fail(error as Error);
    }
  }

  /** The connection failed (or the store closed): destroy it and fail every waiter. */
  #lost(error: Error, lease: Lease | undefined = this.#listening?.lease): void {
    if (this.#listening?.lease === lease) {
      this.#listening?.stop();
      this.#listening = undefined;
    }
    lease?.fail(error);
    this.#waiters.failAll(storeError(error));
  }
}

/** A query with pg's own read timeout (absent from its typings), which fails a stuck connection. */
function withDeadline(text: string, timeoutMs: number): QueryConfig & { query_timeout: number } {
  return { text, query_timeout: timeoutMs };
}
