import { randomBytes } from 'node:crypto';
import Redis, { type RedisOptions } from 'ioredis';
import { Pool, type PoolConfig } from 'pg';
import type { PasswordStore } from '../../lib/types';
import { PostgresStore, type PostgresStoreOptions } from '../../lib/stores/postgres';
import { RedisStore } from '../../lib/stores/redis';
import { DATABASE_URL, REDIS_URL } from './services';

/** The ioredis settings the README recommends: fail at once while disconnected, never resend. */
export const RECOMMENDED_REDIS_OPTIONS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };

/** A store opened for one suite, and how to clean up after it. */
export interface OpenedStore<S extends PasswordStore = PasswordStore> {
  readonly store: S;
  /** Removes what the suite wrote and closes the connections the suite opened. */
  close(): Promise<void>;
}

/** A name no other suite, process or run uses: `<suite>_<pid>_<random>`. */
export function uniqueName(suite: string): string {
  return `${suite}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Connects an ioredis client and waits until it is ready (needed with `enableOfflineQueue: false`). */
export async function connectRedis(
  url: string | number = REDIS_URL,
  options: RedisOptions = RECOMMENDED_REDIS_OPTIONS,
): Promise<Redis> {
  const client = typeof url === 'number' ? new Redis(url, '127.0.0.1', options) : new Redis(url, options);
  await waitUntilReady(client);
  return client;
}

/** Resolves when `client` is ready to take commands. */
export async function waitUntilReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  for await (const keys of client.scanStream({ match: `${prefix}*`, count: 500 })) {
    if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
  }
}

/** A `RedisStore` on the shared Redis under a prefix of its own. */
export async function openRedisStore(suite: string): Promise<OpenedStore<RedisStore> & { client: Redis }> {
  const client = await connectRedis();
  const store = new RedisStore({ client, prefix: `mdpw-test:${uniqueName(suite)}:` });
  return {
    store,
    client,
    async close() {
      await deleteKeys(client, store.prefix);
      await client.quit();
    },
  };
}

/** A `PostgresStore` on the shared database in a migrated table of its own, dropped by `close()`. */
export async function openPostgresStore(
  suite: string,
  poolConfig: PoolConfig = {},
  storeOptions: Omit<PostgresStoreOptions, 'pool'> = {},
): Promise<OpenedStore<PostgresStore> & { pool: Pool }> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 10, ...poolConfig });
  const store = new PostgresStore({ pool, table: `mdpw_${uniqueName(suite)}`, ...storeOptions });
  await store.migrate();
  return {
    store,
    pool,
    async close() {
      await pool.query(`DROP TABLE IF EXISTS ${store.table}`);
      await store.close();
      await pool.end();
    },
  };
}
