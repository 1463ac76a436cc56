import type { Cluster, Redis } from 'ioredis';
import { checkKnownOptions, optionalInteger, OptionsError } from '../options';
import type { PasswordStore } from '../types';
import { requirePeer } from '../peer';
import { withTimeout } from '../timeout';

requirePeer('ioredis', 'redis');

/** Options of `new RedisStore(...)`. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`Redis` for a single node or Sentinel, `Cluster` for Redis Cluster), created
   * and closed by the host; the store never closes it. Recommended settings:
   * `{ enableOfflineQueue: false, maxRetriesPerRequest: 0 }` (see the README).
   */
  readonly client: Redis | Cluster;
  /** Prefix of every key the store writes. Default `'mdpw:'`. */
  readonly prefix?: string;
  /** Milliseconds each call may take before it rejects. Default 2000. */
  readonly timeoutMs?: number;
}

const WHERE = 'new RedisStore()';
const CLIENT_HINT = 'new RedisStore({ client: new Redis(process.env.REDIS_URL) })';

function checkClient(client: unknown): asserts client is Redis | Cluster {
  const candidate = client as Partial<Record<'get' | 'set' | 'del' | 'status', unknown>> | null | undefined;
  const isIoredis =
    typeof candidate?.get === 'function' &&
    typeof candidate.set === 'function' &&
    typeof candidate.del === 'function' &&
    typeof candidate.status === 'string';
  if (isIoredis) return;
  throw new OptionsError(
    client === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION',
    `${WHERE}: \`client\` must be an ioredis client (Redis or Cluster): ${CLIENT_HINT}.`,
  );
}

/**
 * A store in Redis, shared by every process and node that uses the same Redis: set-once is
 * `SET key value NX`, atomic in Redis itself. Each password is one string key, `prefix` + instance
 * id, with a `PX` expiry when the service has a `ttl`. Every call rejects when Redis fails or does
 * not answer within `timeoutMs`.
 */
export class RedisStore implements PasswordStore {
  /** The client the store sends its commands through (the host's; never closed by the store). */
  readonly client: Redis | Cluster;
  /** Prefix of every key the store writes. */
  readonly prefix: string;
  /** Milliseconds each call may take before it rejects. */
  readonly timeoutMs: number;

  constructor(options: RedisStoreOptions) {
    checkKnownOptions(WHERE, options, ['client', 'prefix', 'timeoutMs']);
    checkClient(options.client);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new OptionsError('ERR_INVALID_OPTION', `${WHERE}: \`prefix\` must be a string such as 'mdpw:'.`);
    }
    optionalInteger(WHERE, 'timeoutMs', options.timeoutMs, 1, 600_000, 'milliseconds');
    this.client = options.client;
    this.prefix = options.prefix ?? 'mdpw:';
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async get(id: string): Promise<string | undefined> {
    const value = await this.#bounded(this.client.get(this.#key(id)));
    return value ?? undefined;
  }

  async setIfAbsent(id: string, value: string, ttlMs?: number): Promise<boolean> {
    const key = this.#key(id);
    const reply =
      ttlMs === undefined
        ? this.client.set(key, value, 'NX')
        : this.client.set(key, value, 'PX', ttlMs, 'NX');
    return (await this.#bounded(reply)) === 'OK';
  }

  async set(id: string, value: string, ttlMs?: number): Promise<void> {
    const key = this.#key(id);
    await this.#bounded(ttlMs === undefined ? this.client.set(key, value) : this.client.set(key, value, 'PX', ttlMs));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#bounded(this.client.del(this.#key(id)))) === 1;
  }

  #key(id: string): string {
    return this.prefix + id;
  }

  #bounded<T>(reply: Promise<T>): Promise<T> {
    return withTimeout(reply, this.timeoutMs, () => new Error(`Redis did not answer within ${this.timeoutMs} ms.`));
  }
}
