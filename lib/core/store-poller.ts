import { WriteWaiters } from './write-waiters';
import type { PasswordStore } from '../types';

/** How often a store without `watch` is read for each instance someone waits on. */
export const POLL_INTERVAL_MS = 1000;

/**
 * `watch` for a store that has none (a host's own): reads each waited instance with `get` about
 * once a second, one read at a time however many wait on it, and not at all when nobody waits.
 * Waiters are woken when a value is there and rejected when the read fails.
 */
export class StorePoller {
  readonly #store: PasswordStore;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #reading = new Set<string>();
  readonly #waiters = new WriteWaiters({
    onFirst: (id) => {
      const timer = setInterval(() => this.#poll(id), POLL_INTERVAL_MS);
      timer.unref();
      this.#timers.set(id, timer);
    },
    onLast: (id) => {
      clearInterval(this.#timers.get(id));
      this.#timers.delete(id);
    },
  });

  constructor(store: PasswordStore) {
    this.#store = store;
  }

  /** Resolves once a read finds a value for `id`; rejects when a read fails or `signal` aborts. */
  watch(id: string, signal: AbortSignal): Promise<void> {
    return this.#waiters.wait(id, signal);
  }

  #poll(id: string): void {
    if (this.#reading.has(id)) return;
    this.#reading.add(id);
    Promise.resolve()
      .then(() => this.#store.get(id))
      .then(
        (value) => {
          if (value !== undefined) this.#waiters.wake(id);
        },
        (error: unknown) => this.#waiters.fail(id, error),
      )
      .finally(() => this.#reading.delete(id));
  }
}
