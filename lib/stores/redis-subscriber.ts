import type { Cluster, Redis } from 'ioredis';
import { withTimeout } from '../core/timeout';
import { WriteWaiters } from '../core/write-waiters';
import { storeError } from './store-error';

/** A channel's subscription: a new object each time it is (re)subscribed, to tell stale replies apart. */
interface Subscription {
  active: boolean;
}

/**
 * The waiters of a `RedisStore` and the one connection they listen on: a duplicate of the host's
 * client (Cluster included), made at the first wait, subscribed to one channel per waited
 * instance and unsubscribed when no one waits on it. A write is announced on its instance's
 * channel by the store in the same round trip as the write.
 *
 * A subscription that is not confirmed within the store's deadline, or a subscriber connection
 * that closes, fails its waiters (the router answers 503): writes published while it was away are
 * lost, so no waiter is left to wait for them. The next wait makes a new connection.
 */
export class RedisSubscriber {
  readonly #client: Redis | Cluster;
  readonly #timeoutMs: number;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #waiters = new WriteWaiters({
    onFirst: (channel) => this.#subscribe(channel),
    onLast: (channel) => this.#unsubscribe(channel),
  });
  #connection: Promise<Redis | Cluster> | undefined;
  #subscriber: Redis | Cluster | undefined;
  #closed = false;

  constructor(client: Redis | Cluster, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves at the next message on `channel` (or once its subscription is confirmed). */
  wait(channel: string, signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('The store was closed.'));
    return this.#waiters.wait(channel, signal);
  }

  /** Ends every wait and closes the subscriber connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#drop(new Error('The store was closed.'));
  }

  #subscribe(channel: string): void {
    const subscription: Subscription = { active: false };
    this.#subscriptions.set(channel, subscription);
    const subscribed = this.#connect().then((subscriber) => subscriber.subscribe(channel));
    withTimeout(subscribed, this.#timeoutMs, () => new Error(`Redis did not confirm a subscription within ${this.#timeoutMs} ms.`)).then(
      () => {
        if (this.#subscriptions.get(channel) !== subscription) return;
        subscription.active = true;
        // Whoever started waiting before now may have missed a write: read again.
        this.#waiters.wake(channel);
      },
      (error: unknown) => {
        if (this.#subscriptions.get(channel) !== subscription) return;
        this.#subscriptions.delete(channel);
        this.#waiters.fail(channel, storeError(error));
      },
    );
  }

  #unsubscribe(channel: string): void {
    this.#subscriptions.delete(channel);
    this.#subscriber?.unsubscribe(channel).catch(() => {});
  }

  /** The subscriber connection, made from the host's client at the first wait and ready to subscribe. */
  #connect(): Promise<Redis | Cluster> {
    this.#connection ??= new Promise<Redis | Cluster>((resolve, reject) => {
      const client = this.#client;
      // Each class's own duplicate(): their signatures differ, so the union cannot be called as one.
      const subscriber: Redis | Cluster = client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate();
      this.#subscriber = subscriber;
      subscriber.on('message', (channel: string) => {
        if (this.#subscriptions.get(channel)?.active) this.#waiters.wake(channel);
      });
      // Listened to, so ioredis never reports an unhandled error; the close that follows fails the waits.
      subscriber.on('error', () => {});
      subscriber.once('close', () => {
        if (this.#subscriber === subscriber) this.#drop(new Error('The Redis connection for waiting closed.'));
        reject(new Error('The Redis connection for waiting closed before it was ready.'));
      });
      if (subscriber.status === 'ready') resolve(subscriber);
      else subscriber.once('ready', () => resolve(subscriber));
    });
    return this.#connection;
  }

  /** Fails every waiter with `error` and closes the subscriber; the next wait connects anew. */
  #drop(error: Error): void {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#connection = undefined;
    this.#subscriptions.clear();
    subscriber?.disconnect();
    this.#waiters.failAll(storeError(error));
  }
}
