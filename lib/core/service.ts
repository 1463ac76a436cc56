import { isAnswerable, PasswordError } from './errors';
import { callStore, eventEmitter, refusalEvent, storeUnavailable, type EmitEvent, type RefusalContext } from './events';
import { checkInstanceId } from './instance-id';
import { diagnostics, type Diagnostics } from './logging';
import { checkKnownOptions, optionNames, optionalFunction, optionalInteger, OptionsError } from './options';
import { PasswordRules } from './password-value';
import { StorePoller } from './store-poller';
import { MemoryStore } from '../stores/memory';
import type { ActionContext, EventHandler, Logger, PasswordFormat, PasswordStore, SetContext } from '../types';

export type { RefusalContext } from './events';

/** Options of `new PasswordService(...)`. */
export interface PasswordServiceOptions {
  /** Where passwords are kept. Default: a new `MemoryStore`. */
  readonly store?: PasswordStore;
  /** Milliseconds after which a stored password expires. Default: never (as Nova). */
  readonly ttl?: number;
  /** Largest accepted value in bytes, 16 to 4096. Default 1020 (Nova's 4 × 255). */
  readonly maxBytes?: number;
  /** Accepted value format. Default `'base64'`. */
  readonly format?: PasswordFormat;
  /**
   * Receives the audit events of every router sharing this service. It may be async; a throw or a
   * rejection is logged and never changes an answer.
   */
  readonly onEvent?: EventHandler;
  /** Where a failing `onEvent` and store failures are reported. Default `console`. */
  readonly logger?: Logger;
}

/** The options of `PasswordService` that belong to it alone, never to a router. */
export const SERVICE_OPTION_NAMES = optionNames<Omit<PasswordServiceOptions, 'logger'>>({
  store: true,
  ttl: true,
  maxBytes: true,
  format: true,
  onEvent: true,
});

const WHERE = 'new PasswordService()';
const DEFAULT_MAX_BYTES = 1020;
const FORMATS: readonly PasswordFormat[] = ['base64', 'text'];
const STORE_METHODS = ['get', 'setIfAbsent', 'set', 'delete'] as const;

interface Configuration {
  readonly store: PasswordStore;
  readonly ttl: number | undefined;
  readonly maxBytes: number;
  readonly format: PasswordFormat;
  readonly onEvent: EventHandler | undefined;
  readonly log: Diagnostics;
}

function parseOptions(options: PasswordServiceOptions): Configuration {
  checkKnownOptions(WHERE, options, [...SERVICE_OPTION_NAMES, 'logger']);
  if (options.store !== undefined) checkStore(WHERE, options.store);
  optionalInteger(WHERE, 'ttl', options.ttl, 1, 2 ** 31 - 1, 'milliseconds');
  optionalInteger(WHERE, 'maxBytes', options.maxBytes, 16, 4096, 'bytes');
  if (options.format !== undefined && !FORMATS.includes(options.format)) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${WHERE}: \`format\` must be 'base64' or 'text'; got ${JSON.stringify(options.format)}.`,
    );
  }
  optionalFunction(WHERE, 'onEvent', options.onEvent);
  return {
    store: options.store ?? new MemoryStore(),
    ttl: options.ttl,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    format: options.format ?? 'base64',
    onEvent: options.onEvent,
    log: diagnostics(options.logger ?? console),
  };
}

/** Requires `store` to have every method of `PasswordStore`; `where` names the constructor. */
export function checkStore(where: string, store: unknown): asserts store is PasswordStore {
  const missing = STORE_METHODS.filter(
    (method) => typeof (store as Record<string, unknown> | null)?.[method] !== 'function',
  );
  if (missing.length > 0) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${where}: \`store\` must implement PasswordStore; missing ${missing.join(', ')}.`,
    );
  }
}

/**
 * The core both routers use, and the host's own entry point: set-once, overwrite, read and clear
 * passwords in a store, with validation and audit events.
 */
export class PasswordService {
  readonly #store: PasswordStore;
  /** Largest accepted value in bytes. */
  readonly maxBytes: number;
  /** Accepted value format. */
  readonly format: PasswordFormat;
  /** Milliseconds until a stored password expires, or `undefined` for never. */
  readonly ttl: number | undefined;
  readonly #emit: EmitEvent;
  /** Whether anyone reads the events: without an `onEvent`, none is built and nothing is timed. */
  readonly #observed: boolean;
  readonly #log: Diagnostics;
  readonly #rules: PasswordRules;
  #poller: StorePoller | undefined;

  constructor(options: PasswordServiceOptions = {}) {
    const configuration = parseOptions(options);
    this.#store = configuration.store;
    this.maxBytes = configuration.maxBytes;
    this.format = configuration.format;
    this.ttl = configuration.ttl;
    this.#log = configuration.log;
    this.#emit = eventEmitter(configuration.onEvent, configuration.log);
    this.#observed = configuration.onEvent !== undefined;
    this.#rules = new PasswordRules(configuration);
  }

  /** Resolves the stored value, or `undefined` when there is none. Emits `password.read` on a value. */
  async get(id: string, context?: ActionContext): Promise<string | undefined> {
    checkInstanceId(id);
    const [value, durationMs] = await this.#call(id, context, () => this.#store.get(id));
    if (value !== undefined && this.#observed) {
      this.#emit({ type: 'password.read', instanceId: id, durationMs }, context);
    }
    return value;
  }

  /**
   * Stores `value` unless one is already set: resolves `true` when stored, `false` when a value was
   * already there. Atomic when the store is. Rejects with 400 `BAD_REQUEST` for an id no store can
   * hold, 400 `INVALID_PASSWORD` or 413 `PAYLOAD_TOO_LARGE` for an invalid value (or one that is
   * not a block for `context.publicKey`), 503 `STORE_UNAVAILABLE` when the store fails.
   */
  async setOnce(id: string, value: string, context?: SetContext): Promise<boolean> {
    checkInstanceId(id);
    const normalized = this.#validate(id, value, context);
    const [stored, durationMs] = await this.#call(id, context, () =>
      this.#store.setIfAbsent(id, normalized, this.ttl),
    );
    this.#emit({ type: stored ? 'password.set' : 'password.conflict', instanceId: id, durationMs }, context);
    return stored;
  }

  /** Stores `value` even when one is set: an admin's change-password action. */
  async overwrite(id: string, value: string, context?: SetContext): Promise<void> {
    checkInstanceId(id);
    const normalized = this.#validate(id, value, context);
    const [, durationMs] = await this.#call(id, context, () => this.#store.set(id, normalized, this.ttl));
    this.#emit({ type: 'password.set', instanceId: id, reason: 'overwrite', durationMs }, context);
  }

  /**
   * Removes the value, so the guest may post again; resolves whether something was removed. Call it
   * when an instance is rebuilt, so its agent can post the new password.
   */
  async clear(id: string, context?: ActionContext): Promise<boolean> {
    checkInstanceId(id);
    const [removed, durationMs] = await this.#call(id, context, () => this.#store.delete(id));
    if (removed) this.#emit({ type: 'password.cleared', instanceId: id, durationMs }, context);
    return removed;
  }

  /**
   * Reads a value without a `password.read` event: a HEAD request returns no value.
   * @internal
   */
  async peek(id: string, context?: ActionContext): Promise<string | undefined> {
    checkInstanceId(id);
    const [value] = await this.#call(id, context, () => this.#store.get(id));
    return value;
  }

  /**
   * Waits up to `timeoutMs` for a value of `id` to be stored (by any process sharing the store):
   * resolves it (with a `password.read` event), or `undefined` once the time has passed or `signal`
   * aborted. The store's `watch` says when to read again; a store without one is polled. Rejects
   * with 503 `STORE_UNAVAILABLE` when the store fails, reads or waits alike.
   * @internal
   */
  async waitFor(id: string, timeoutMs: number, signal: AbortSignal, context?: ActionContext): Promise<string | undefined> {
    checkInstanceId(id);
    const waiting = new AbortController();
    const stop = (): void => waiting.abort();
    const timer = setTimeout(stop, timeoutMs);
    signal.addEventListener('abort', stop, { once: true });
    try {
      while (!waiting.signal.aborted) {
        // Listen first, then read: a write landing between the two still wakes this round.
        const round = new AbortController();
        const endRound = (): void => round.abort();
        waiting.signal.addEventListener('abort', endRound, { once: true });
        const started = performance.now();
        const woken = this.#watch(id, round.signal);
        woken.catch(() => {});
        try {
          const value = await this.get(id, context);
          if (value !== undefined) return value;
          await woken;
        } catch (error) {
          if (error instanceof PasswordError) throw error;
          if (round.signal.aborted) return undefined;
          throw storeUnavailable(id, context, error, performance.now() - started, this.#log, this.#emit);
        } finally {
          waiting.signal.removeEventListener('abort', endRound);
          round.abort();
        }
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  /**
   * Emits the event for a request a router refused before asking the service: `access.denied` (who
   * or which instance) or `password.rejected` (the body), `reason` being the answer's code.
   * @internal
   */
  refused(type: 'access.denied' | 'password.rejected', reason: string, context: RefusalContext): void {
    this.#emit(refusalEvent(type, reason, context), context);
  }

  #validate(id: string, value: string, context: SetContext | undefined): string {
    try {
      return this.#rules.check(value, context?.publicKey);
    } catch (error) {
      if (isAnswerable(error) && error.status < 500) {
        this.#emit({ type: 'password.rejected', instanceId: id, reason: error.code }, context);
      }
      throw error;
    }
  }

  /** Runs a store call; resolves its result and how long it took, in milliseconds. */
  #call<T>(id: string, context: ActionContext | undefined, operation: () => Promise<T>): Promise<[result: T, durationMs: number]> {
    return callStore(id, context, operation, this.#log, this.#emit, this.#observed);
  }

  /** `store.watch`, or polling with `get` for a store without it; a synchronous throw rejects. */
  #watch(id: string, signal: AbortSignal): Promise<void> {
    const store = this.#store;
    if (typeof store.watch !== 'function') {
      this.#poller ??= new StorePoller(store);
      return this.#poller.watch(id, signal);
    }
    try {
      return Promise.resolve(store.watch(id, signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
