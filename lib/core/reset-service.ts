import { callStore, eventEmitter, refusalEvent, type EmitEvent, type RefusalContext } from './events';
import { checkInstanceId } from './instance-id';
import { checkStore } from './service';
import { diagnostics, type Diagnostics } from './logging';
import { checkKnownOptions, optionalFunction, optionalInteger, OptionsError } from './options';
import { ResetCipher } from './reset-cipher';
import { checkResetPassword, generateResetPassword } from './reset-password';
import { MemoryStore } from '../stores/memory';
import type { ActionContext, EncryptionKey, EventHandler, Logger, PasswordStore } from '../types';

/** Options of `new PasswordResetService(...)`. */
export interface PasswordResetServiceOptions {
  /**
   * Where pending resets are kept, a store of their own (its own Redis prefix or PostgreSQL table,
   * e.g. `new RedisStore({ client, prefix: 'mdpw-reset:' })`). Default: a new `MemoryStore`.
   */
  readonly store?: PasswordStore;
  /**
   * The AES-256-GCM key resets are encrypted with at rest: 32 bytes (a Buffer, 64 hex digits, or
   * base64 of 32 bytes: `openssl rand -base64 32`), or `[current, ...older]` to rotate keys (new
   * values use the first; any of them decrypts). Required for every store but `MemoryStore`, whose
   * default is a random key of the process's own.
   */
  readonly encryptionKey?: EncryptionKey | readonly EncryptionKey[];
  /** Milliseconds after which a reset nobody fetched and acknowledged expires. Default 24 hours. */
  readonly ttl?: number;
  /**
   * Receives the `reset.*` events (and `access.denied`, `store.unavailable`), never the password.
   * It may be async; a throw or a rejection is logged and never changes an answer.
   */
  readonly onEvent?: EventHandler;
  /** Where a failing `onEvent`, store failures and unreadable values are reported. Default `console`. */
  readonly logger?: Logger;
}

/** What `reset` takes: the password to deliver, or none to have one generated. */
export interface ResetRequest {
  /**
   * The password the guest will apply: 8 to 127 characters, no control or format characters, no
   * surrounding whitespace, not `saved_password` or `bad_request`. Default: 20 generated characters.
   */
  readonly password?: string;
}

const WHERE = 'new PasswordResetService()';
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Owner-set passwords for agents that fetch them (CloudStack's password-server protocol): the host
 * queues a reset, the guest's agent fetches it (`take`) and acknowledges it (`acknowledge`), until
 * which it stays pending. Values are encrypted at rest with AES-256-GCM, bound to their instance.
 */
export class PasswordResetService {
  /** The store pending resets are kept in. */
  readonly store: PasswordStore;
  /** Milliseconds until a pending reset expires. */
  readonly ttl: number;
  readonly #cipher: ResetCipher;
  readonly #emit: EmitEvent;
  readonly #log: Diagnostics;

  constructor(options: PasswordResetServiceOptions = {}) {
    checkKnownOptions(WHERE, options, ['store', 'encryptionKey', 'ttl', 'onEvent', 'logger']);
    if (options.store !== undefined) checkStore(WHERE, options.store);
    optionalInteger(WHERE, 'ttl', options.ttl, 1, 2 ** 31 - 1, 'milliseconds');
    optionalFunction(WHERE, 'onEvent', options.onEvent);
    this.store = options.store ?? new MemoryStore();
    this.ttl = options.ttl ?? DAY_MS;
    if (options.encryptionKey !== undefined) this.#cipher = new ResetCipher(WHERE, options.encryptionKey);
    else if (this.store instanceof MemoryStore) this.#cipher = ResetCipher.ephemeral();
    else {
      throw new OptionsError(
        'ERR_MISSING_OPTION',
        `${WHERE}: \`encryptionKey\` is required with a store other than MemoryStore (resets are encrypted at rest); ` +
          'make one with `openssl rand -base64 32` and pass it from your secret store.',
      );
    }
    this.#log = diagnostics(options.logger ?? console);
    this.#emit = eventEmitter(options.onEvent, this.#log);
  }

  /**
   * Queues a password for the guest to fetch, replacing a pending one; resolves the password that
   * will be delivered (generated when `password` is not given). An invalid password rejects with
   * 400 `INVALID_PASSWORD` and leaves an earlier pending reset as it was.
   */
  async reset(id: string, request: ResetRequest = {}, context?: ActionContext): Promise<string> {
    checkInstanceId(id);
    const password = request.password === undefined ? generateResetPassword() : request.password;
    checkResetPassword(password);
    const sealed = this.#cipher.seal(id, password);
    const [, durationMs] = await this.#call(id, context, () => this.store.set(id, sealed, this.ttl));
    this.#emit({ type: 'reset.queued', instanceId: id, durationMs }, context);
    return password;
  }

  /** Resolves whether a reset waits for the guest. */
  async pending(id: string, context?: ActionContext): Promise<boolean> {
    return (await this.#read(id, context)).password !== undefined;
  }

  /** Removes a pending reset; resolves whether one was removed. Emits `reset.cancelled`. */
  async cancel(id: string, context?: ActionContext): Promise<boolean> {
    return this.#remove(id, context, 'reset.cancelled');
  }

  /**
   * The pending password, or `undefined`; it stays pending until `acknowledge`, so an answer lost
   * on the way is fetched again. Emits `reset.delivered`.
   */
  async take(id: string, context?: ActionContext): Promise<string | undefined> {
    const { password, durationMs } = await this.#read(id, context);
    if (password !== undefined) this.#emit({ type: 'reset.delivered', instanceId: id, durationMs }, context);
    return password;
  }

  /** The guest applied the password: removes it; resolves whether one was pending. Emits `reset.applied`. */
  async acknowledge(id: string, context?: ActionContext): Promise<boolean> {
    return this.#remove(id, context, 'reset.applied');
  }

  /**
   * The pending password without a `reset.delivered` event: a HEAD request delivers nothing.
   * @internal
   */
  async peek(id: string, context?: ActionContext): Promise<string | undefined> {
    return (await this.#read(id, context)).password;
  }

  /**
   * Emits the event for a request the password-server router refused before asking the service.
   * @internal
   */
  refused(type: 'access.denied' | 'password.rejected', reason: string, context: RefusalContext): void {
    this.#emit(refusalEvent(type, reason, context), context);
  }

  async #read(id: string, context: ActionContext | undefined): Promise<{ password?: string; durationMs: number }> {
    checkInstanceId(id);
    const [sealed, durationMs] = await this.#call(id, context, () => this.store.get(id));
    if (sealed === undefined) return { durationMs };
    const password = this.#cipher.open(id, sealed);
    if (password === undefined) {
      this.#log.error(
        `a pending reset for instance ${JSON.stringify(id)} does not decrypt with any \`encryptionKey\` (a key removed too early, or a value moved from another instance); it is treated as absent.`,
      );
      this.#emit({ type: 'reset.unreadable', instanceId: id, durationMs }, context);
      return { durationMs };
    }
    return { password, durationMs };
  }

  async #remove(id: string, context: ActionContext | undefined, type: 'reset.cancelled' | 'reset.applied'): Promise<boolean> {
    checkInstanceId(id);
    const [removed, durationMs] = await this.#call(id, context, () => this.store.delete(id));
    if (removed) this.#emit({ type, instanceId: id, durationMs }, context);
    return removed;
  }

  #call<T>(id: string, context: ActionContext | undefined, operation: () => Promise<T>): Promise<[result: T, durationMs: number]> {
    return callStore(id, context, operation, this.#log, this.#emit);
  }
}
