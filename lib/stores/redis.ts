import type { Cluster, Redis } from 'ioredis';
import { checkKnownOptions, optionalInteger, OptionsError } from '../core/options';
import type { PasswordStore } from '../types';
import { requirePeer } from '../core/peer';
import { withTimeout } from '../core/timeout';
import { RedisSubscriber } from './redis-subscriber';
import { storeError } from './store-error';
import { sendPipeline, sendToSlotOwner, type PipelineCommand } from './redis-pipeline';

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
  /**
   * Replicas that must confirm a write (a set-once that stored, an overwrite, a clear that removed)
   * before it is acknowledged, by Redis `WAIT` on the node that took the write, within `timeoutMs`.
   * Fewer is a rejection (the write may have landed on the primary alone). With 1 or more, a
   * Sentinel or Cluster failover loses no acknowledged write. Default 0: acknowledged by the primary.
   */
  readonly minReplicas?: number;
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

/** `1 replica`, `2 replicas`: the count as a message says it. */
function replicaCount(count: number): string {
  return `${count} replica${count === 1 ? '' : 's'}`;
}

/** The most replicas `minReplicas` may ask for. */
const MAX_REPLICAS = 100;

function ignore(): void {}

type Write = ['set', string, string, ...(string | number)[]] | ['del', string];

/**
 * A store in Redis, shared by every process and node that uses the same Redis: set-once is
 * `SET key value NX`, atomic in Redis itself. Each password is one string key, `prefix` + instance
 * id, with a `PX` expiry when the service has a `ttl`. Every call rejects when Redis fails or does
 * not answer within `timeoutMs`, with an error that keeps Redis's name, code and message but never
 * the command's arguments.
 *
 * With `minReplicas`, each write is pipelined with `WAIT`: one pipeline goes to one connection, the
 * one of the node that owns the key, and is never resent in part on another connection, where a
 * `WAIT` would confirm nothing. On a Cluster the store picks that node itself, waits for its
 * connection to open, and resends the whole pipeline once after MOVED or ASK (`sendToSlotOwner`).
 * `WAIT` holds that connection while it waits, so commands sent behind it wait too.
 *
 * Each set is followed by a `PUBLISH` on the instance's channel (`prefix` + `written:` + id) on the
 * same connection, in the same round trip: written right behind a plain write, pipelined after the
 * `WAIT` when there is one or on a Cluster. `watch` listens on a connection
 * of the store's own, made from the host's client by `duplicate()` at the first wait and closed
 * by `close()`.
 */
export class RedisStore implements PasswordStore {
  /** The client the store sends its commands through (the host's; never closed by the store). */
  readonly client: Redis | Cluster;
  /** Prefix of every key the store writes. */
  readonly prefix: string;
  /** Milliseconds each call may take before it rejects. */
  readonly timeoutMs: number;
  /** Replicas that must confirm each write. */
  readonly minReplicas: number;
  readonly #timeoutMessage: string;
  #subscriber: RedisSubscriber | undefined;

  constructor(options: RedisStoreOptions) {
    checkKnownOptions(WHERE, options, ['client', 'prefix', 'timeoutMs', 'minReplicas']);
    checkClient(options.client);
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new OptionsError('ERR_INVALID_OPTION', `${WHERE}: \`prefix\` must be a string such as 'mdpw:'.`);
    }
    optionalInteger(WHERE, 'timeoutMs', options.timeoutMs, 1, 600_000, 'milliseconds');
    optionalInteger(WHERE, 'minReplicas', options.minReplicas, 0, MAX_REPLICAS, 'replicas');
    this.client = options.client;
    this.prefix = options.prefix ?? 'mdpw:';
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.minReplicas = options.minReplicas ?? 0;
    this.#timeoutMessage = `Redis did not answer within ${this.timeoutMs} ms.`;
  }

  async get(id: string): Promise<string | undefined> {
    const key = this.#key(id);
    const value = await this.#bounded(this.client.isCluster ? this.#onSlotOwner(['get', key]) : this.client.get(key));
    return (value as string | null) ?? undefined;
  }

  async setIfAbsent(id: string, value: string, ttlMs?: number): Promise<boolean> {
    const expiry = ttlMs === undefined ? [] : ['PX', ttlMs];
    return (await this.#write(['set', this.#key(id), value, ...expiry, 'NX'], id)) === 'OK';
  }

  async set(id: string, value: string, ttlMs?: number): Promise<void> {
    const expiry = ttlMs === undefined ? [] : ['PX', ttlMs];
    await this.#write(['set', this.#key(id), value, ...expiry], id);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#write(['del', this.#key(id)])) === 1;
  }

  /**
   * Resolves at the next set for `id` by any process using this Redis (or once the store's
   * subscription to it is confirmed, so the caller reads again); rejects when `signal` aborts, when
   * Redis does not confirm the subscription within `timeoutMs`, or when the subscriber connection
   * closes.
   */
  watch(id: string, signal: AbortSignal): Promise<void> {
    this.#subscriber ??= new RedisSubscriber(this.client, this.timeoutMs);
    return this.#subscriber.wait(this.#channel(id), signal);
  }

  /** Ends every wait and closes the store's subscriber connection. The host's client stays open. */
  async close(): Promise<void> {
    await this.#subscriber?.close();
    this.#subscriber = undefined;
  }

  #key(id: string): string {
    return this.prefix + id;
  }

  #channel(id: string): string {
    return `${this.prefix}written:${id}`;
  }

  /**
   * Runs one command on a Cluster, on the connection of the master that owns its key, following one
   * MOVED or ASK (`sendToSlotOwner`).
   */
  async #onSlotOwner(command: readonly [name: string, key: string, ...args: Array<string | number>]): Promise<unknown> {
    const [reply] = await sendToSlotOwner(this.client as Cluster, command[1], [command]);
    const [error, value] = await reply;
    if (error) throw error;
    return value;
  }

  /**
   * Runs one write, pipelined with the `PUBLISH` that announces a set for `announce` to its
   * waiters; with `minReplicas`, resolves only once that many replicas confirmed a change.
   */
  #write(command: Write, announce?: string): Promise<unknown> {
    if (this.minReplicas === 0 && !this.client.isCluster) {
      const [name, ...args] = command;
      const written = this.client.call(name, ...args);
      // Written right behind the write on the same connection, so it travels in the same round trip
      // and Redis runs it after the write, without the cost of a pipeline object on every set. Its
      // failure fails no write: a waiter reads the value when its wait ends.
      if (announce !== undefined) this.client.call('publish', this.#channel(announce), '').catch(ignore);
      return this.#bounded(written);
    }
    if (this.minReplicas === 0 && announce === undefined) return this.#bounded(this.#onSlotOwner(command));
    const unconfirmed =
      this.minReplicas === 0
        ? undefined
        : `Redis did not confirm the write on ${replicaCount(this.minReplicas)} within ${this.timeoutMs} ms; it may have landed.`;
    return this.#bounded(this.#writeAndWait(command, announce), unconfirmed);
  }

  /**
   * Answers from the write's own reply: at once when it changed nothing (or failed) or no replica
   * must confirm it, else once the `WAIT` behind it confirmed `minReplicas` replicas. The `PUBLISH`
   * goes last, so waiters read a write that is confirmed; its failure fails no write (a waiter then
   * reads the value when its wait ends).
   */
  async #writeAndWait(command: Write, announce: string | undefined): Promise<unknown> {
    const confirm = this.minReplicas > 0;
    const commands: PipelineCommand[] = [
      command,
      ...(confirm ? [['wait', this.minReplicas, this.timeoutMs] as const] : []),
      ...(announce === undefined ? [] : [['publish', this.#channel(announce), ''] as const]),
    ];
    const [written, waited] = this.client.isCluster
      ? await sendToSlotOwner(this.client as Cluster, command[1], commands)
      : sendPipeline(this.client as Redis, commands);
    const [writeError, reply] = await written;
    if (writeError) throw writeError;
    if (!confirm || (reply !== 'OK' && reply !== 1)) return reply;
    const [waitError, replicas] = await waited;
    if (waitError) throw waitError;
    if (typeof replicas !== 'number' || replicas < this.minReplicas) {
      throw new Error(
        `Redis confirmed the write on ${typeof replicas === 'number' ? replicaCount(replicas) : String(replicas)} ` +
          `of the ${this.minReplicas} required within ${this.timeoutMs} ms; ` +
          'it may have landed.',
      );
    }
    return reply;
  }

  #bounded<T>(reply: Promise<T>, timeoutMessage = this.#timeoutMessage): Promise<T> {
    return withTimeout(reply, this.timeoutMs, () => new Error(timeoutMessage), storeError);
  }
}
