import { PasswordError, passwordError } from './errors';
import { isInstanceId, MAX_INSTANCE_ID_LENGTH } from './instance-id';
import { checkKnownOptions, optionalFunction, optionalInteger, OptionsError } from './options';
import { normalizePassword } from './password-value';
import { MemoryStore } from './stores/memory';
import type {
  ActionContext,
  EventHandler,
  Logger,
  PasswordEvent,
  PasswordFormat,
  PasswordServiceOptions,
  PasswordStore,
} from './types';

/** The option names of `PasswordService`, also accepted by `createPasswordRouter` instead of `service`. */
export const SERVICE_OPTION_NAMES = ['store', 'ttl', 'maxBytes', 'format', 'onEvent'] as const;

const DEFAULT_MAX_BYTES = 1020;
const FORMATS: readonly PasswordFormat[] = ['base64', 'text'];
const STORE_METHODS = ['get', 'setIfAbsent', 'set', 'delete'] as const;

/** Emits an event through a service; for the routers, not part of the public API. */
export const emitEvent = Symbol('emitEvent');
/** Reads a value without a `password.read` event (HEAD); for the routers. */
export const peekValue = Symbol('peekValue');

type EventFields = Omit<PasswordEvent, 'at' | 'principalId' | 'requestId'> & { context?: ActionContext };

function checkStore(where: string, store: unknown): asserts store is PasswordStore {
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

function checkId(id: unknown): asserts id is string {
  if (!isInstanceId(id)) {
    throw new TypeError(
      `express-metadata-password: an instance id must be a non-empty string of at most ${MAX_INSTANCE_ID_LENGTH} characters, well-formed UTF-16.`,
    );
  }
}

/**
 * The core both routers use, and the host's own entry point: set-once, overwrite, read and clear
 * passwords in a store, with validation and audit events.
 */
export class PasswordService {
  /** The store passwords are kept in. */
  readonly store: PasswordStore;
  /** Largest accepted value in bytes. */
  readonly maxBytes: number;
  /** Accepted value format. */
  readonly format: PasswordFormat;
  /** Milliseconds until a stored password expires, or `undefined` for never. */
  readonly ttl: number | undefined;
  readonly #onEvent: EventHandler | undefined;
  readonly #logger: Logger;

  constructor(options: PasswordServiceOptions = {}) {
    const where = 'new PasswordService()';
    checkKnownOptions(where, options, [...SERVICE_OPTION_NAMES, 'logger']);
    if (options.store !== undefined) checkStore(where, options.store);
    optionalInteger(where, 'ttl', options.ttl, 1, 2 ** 31 - 1, 'milliseconds');
    optionalInteger(where, 'maxBytes', options.maxBytes, 16, 4096, 'bytes');
    if (options.format !== undefined && !FORMATS.includes(options.format)) {
      throw new OptionsError(
        'ERR_INVALID_OPTION',
        `${where}: \`format\` must be 'base64' or 'text'; got ${JSON.stringify(options.format)}.`,
      );
    }
    optionalFunction(where, 'onEvent', options.onEvent);
    this.store = options.store ?? new MemoryStore();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.format = options.format ?? 'base64';
    this.ttl = options.ttl;
    this.#onEvent = options.onEvent;
    this.#logger = options.logger ?? console;
  }

  /** Resolves the stored value, or `undefined` when there is none. Emits `password.read` on a value. */
  async get(id: string, context?: ActionContext): Promise<string | undefined> {
    checkId(id);
    const [value, durationMs] = await this.#call(id, context, () => this.store.get(id));
    if (value !== undefined) this[emitEvent]({ type: 'password.read', instanceId: id, durationMs, context });
    return value;
  }

  /**
   * Stores `value` unless one is already set: resolves `true` when stored, `false` when a value was
   * already there. Atomic when the store is. Rejects with 400 `INVALID_PASSWORD` or 413
   * `PAYLOAD_TOO_LARGE` for an invalid value, 503 `STORE_UNAVAILABLE` when the store fails.
   */
  async setOnce(id: string, value: string, context?: ActionContext): Promise<boolean> {
    checkId(id);
    const normalized = this.#validate(id, value, context);
    const [stored, durationMs] = await this.#call(id, context, () =>
      this.store.setIfAbsent(id, normalized, this.ttl),
    );
    this[emitEvent]({ type: stored ? 'password.set' : 'password.conflict', instanceId: id, durationMs, context });
    return stored;
  }

  /** Stores `value` even when one is set: an admin's change-password action. */
  async overwrite(id: string, value: string, context?: ActionContext): Promise<void> {
    checkId(id);
    const normalized = this.#validate(id, value, context);
    const [, durationMs] = await this.#call(id, context, () => this.store.set(id, normalized, this.ttl));
    this[emitEvent]({ type: 'password.set', instanceId: id, reason: 'overwrite', durationMs, context });
  }

  /**
   * Removes the value, so the guest may post again; resolves whether something was removed. Call it
   * when an instance is rebuilt, so its agent can post the new password.
   */
  async clear(id: string, context?: ActionContext): Promise<boolean> {
    checkId(id);
    const [removed, durationMs] = await this.#call(id, context, () => this.store.delete(id));
    if (removed) this[emitEvent]({ type: 'password.cleared', instanceId: id, durationMs, context });
    return removed;
  }

  /** @internal */
  async [peekValue](id: string, context?: ActionContext): Promise<string | undefined> {
    checkId(id);
    const [value] = await this.#call(id, context, () => this.store.get(id));
    return value;
  }

  /** @internal */
  [emitEvent](fields: EventFields): void {
    if (!this.#onEvent) return;
    const { context, ...rest } = fields;
    const event: PasswordEvent = {
      ...rest,
      ...(context?.principalId !== undefined && { principalId: context.principalId }),
      ...(context?.requestId !== undefined && { requestId: context.requestId }),
      at: new Date(),
    };
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#logger.error('express-metadata-password: onEvent threw; the request went on.', error);
    }
  }

  #validate(id: string, value: string, context: ActionContext | undefined): string {
    try {
      return normalizePassword(value, this.format, this.maxBytes);
    } catch (error) {
      const code = error instanceof PasswordError ? error.code : 'INVALID_PASSWORD';
      this[emitEvent]({ type: 'password.rejected', instanceId: id, reason: code, context });
      throw error;
    }
  }

  /** Runs a store call; resolves its result and how long it took, in milliseconds. */
  async #call<T>(
    id: string,
    context: ActionContext | undefined,
    operation: () => Promise<T>,
  ): Promise<[result: T, durationMs: number]> {
    const started = performance.now();
    try {
      const result = await operation();
      return [result, performance.now() - started];
    } catch (cause) {
      const durationMs = performance.now() - started;
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.#logger.error(`express-metadata-password: the password store failed for instance ${id}.`, cause);
      this[emitEvent]({ type: 'store.unavailable', instanceId: id, reason, durationMs, context });
      throw passwordError('STORE_UNAVAILABLE', 'The password store is unavailable; try again shortly.', { cause });
    }
  }
}
