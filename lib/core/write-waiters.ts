/** One caller of `PasswordStore.watch`, until it is woken, fails or gives up. */
interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** What a store does when the first caller starts waiting on a key, and when the last one leaves. */
export interface WaitedKeyHooks {
  /** The first waiter on `key` arrived: start listening for its writes. */
  readonly onFirst?: (key: string) => void;
  /** No one waits on `key` any more: stop listening for its writes. */
  readonly onLast?: (key: string) => void;
}

/**
 * The callers waiting for the next write of each key, for a store's `watch`: every store keeps its
 * waiters here and only decides when to wake them. A waiter leaves when it is woken, fails, or its
 * signal aborts (rejecting with the signal's reason), so nothing outlives the wait.
 */
export class WriteWaiters {
  readonly #byKey = new Map<string, Set<Waiter>>();
  readonly #hooks: WaitedKeyHooks;

  constructor(hooks: WaitedKeyHooks = {}) {
    this.#hooks = hooks;
  }

  /** How many keys have waiters. */
  get keyCount(): number {
    return this.#byKey.size;
  }

  /** The keys that have waiters. */
  keys(): IterableIterator<string> {
    return this.#byKey.keys();
  }

  /** Resolves at the next `wake(key)`; rejects at `fail` or when `signal` aborts. */
  wait(key: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        signal.removeEventListener('abort', onAbort);
        const set = this.#byKey.get(key);
        if (!set?.delete(waiter) || set.size > 0) return;
        this.#byKey.delete(key);
        this.#hooks.onLast?.(key);
      };
      const onAbort = (): void => {
        leave();
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          leave();
          resolve();
        },
        reject: (error) => {
          leave();
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let set = this.#byKey.get(key);
      const first = set === undefined;
      if (!set) this.#byKey.set(key, (set = new Set()));
      set.add(waiter);
      if (first) this.#hooks.onFirst?.(key);
    });
  }

  /** Wakes everyone waiting on `key`. */
  wake(key: string): void {
    for (const waiter of [...(this.#byKey.get(key) ?? [])]) waiter.resolve();
  }

  /** Wakes everyone, e.g. when the store could have missed writes and they must read again. */
  wakeAll(): void {
    for (const key of [...this.#byKey.keys()]) this.wake(key);
  }

  /** Rejects everyone waiting on `key` with `error`. */
  fail(key: string, error: unknown): void {
    for (const waiter of [...(this.#byKey.get(key) ?? [])]) waiter.reject(error);
  }

  /** Rejects every waiter with `error`: the store's connection for waiting failed. */
  failAll(error: unknown): void {
    for (const key of [...this.#byKey.keys()]) this.fail(key, error);
  }
}
