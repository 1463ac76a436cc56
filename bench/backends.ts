import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { MemoryStore, type PasswordStore } from '../lib';
import { PostgresStore } from '../lib/stores/postgres';
import { RedisStore } from '../lib/stores/redis';
import { INSTANCE_ID, STORED_PASSWORD } from './fixtures';
import { startReplicatedRedis } from './redis-replicas';
import type { Backend } from './scenarios';

/** Where the Redis and PostgreSQL scenarios keep their data: unique per run, removed afterwards. */
export interface BackendNames {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** A private primary with one replica, for the `minReplicas: 1` rows. */
  readonly replicatedRedisUrl: string;
  readonly databaseUrl: string;
  readonly table: string;
}

/** A server's store, and the same data reached by hand for the hand-written routes. */
export interface OpenBackend {
  readonly store: PasswordStore;
  /** A hand-written route's read: the backend's own client, no store in between. */
  readonly read: (id: string) => Promise<string | null | undefined>;
  /** A hand-written route's set-once. */
  readonly setIfAbsent: (id: string, value: string) => Promise<boolean>;
  close(): Promise<void>;
}

/** The settings the README recommends: fail at once while disconnected, never resend. */
const REDIS_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 0 } as const;

async function connectRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { ...REDIS_OPTIONS, lazyConnect: true, retryStrategy: () => null });
  let failure: Error | undefined;
  client.on('error', (error: Error) => {
    failure = error;
  });
  try {
    await client.connect();
  } catch (error) {
    throw failure ?? error;
  }
  return client;
}

/** Opens `backend` in a server process; the memory store starts with the password of `INSTANCE_ID`. */
export async function openBackend(backend: Backend, names: BackendNames): Promise<OpenBackend> {
  switch (backend) {
    case 'memory': {
      const store = new MemoryStore();
      await store.set(INSTANCE_ID, STORED_PASSWORD);
      return {
        store,
        read: (id) => store.get(id),
        setIfAbsent: (id, value) => store.setIfAbsent(id, value),
        close: () => store.close(),
      };
    }
    case 'redis': {
      const client = await connectRedis(names.redisUrl);
      const prefix = names.redisPrefix;
      return {
        store: new RedisStore({ client, prefix }),
        read: (id) => client.get(prefix + id),
        setIfAbsent: async (id, value) => (await client.set(prefix + id, value, 'NX')) === 'OK',
        close: async () => void (await client.quit()),
      };
    }
    case 'redis-replicas': {
      // The hand-written route waits for the replica as the store does, in one pipeline.
      const client = await connectRedis(names.replicatedRedisUrl);
      const prefix = names.redisPrefix;
      return {
        store: new RedisStore({ client, prefix, minReplicas: 1 }),
        read: (id) => client.get(prefix + id),
        setIfAbsent: async (id, value) => {
          const [[, stored], [, replicas]] = (await client.pipeline().set(prefix + id, value, 'NX').wait(1, 2000).exec()) ?? [];
          if (stored === 'OK' && replicas !== 1) throw new Error('the replica did not confirm');
          return stored === 'OK';
        },
        close: async () => void (await client.quit()),
      };
    }
    case 'postgres': {
      const pool = new Pool({ connectionString: names.databaseUrl });
      const { table } = names;
      return {
        store: new PostgresStore({ pool, table }),
        read: async (id) => {
          const { rows } = await pool.query<{ value: Buffer }>(`SELECT value FROM ${table} WHERE id = $1`, [id]);
          return rows[0]?.value.toString();
        },
        setIfAbsent: async (id, value) => {
          const sql = `INSERT INTO ${table} (id, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`;
          return (await pool.query(sql, [id, Buffer.from(value)])).rowCount === 1;
        },
        close: () => pool.end(),
      };
    }
  }
}

/** The backends of one run, seeded with the password of `INSTANCE_ID`. */
export interface PreparedBackends {
  readonly names: BackendNames;
  /** Why a backend cannot be used, when it cannot. */
  readonly unavailable: Partial<Record<Backend, string>>;
  /** Removes the run's keys and table and closes the connections. */
  cleanup(): Promise<void>;
}

export async function prepareBackends(): Promise<PreparedBackends> {
  const unique = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const unavailable: Partial<Record<Backend, string>> = {};
  const cleanups: Array<() => Promise<void>> = [];
  const replicated = await startReplicatedRedis().catch((error: Error) => {
    unavailable['redis-replicas'] = `a private Redis primary and replica: ${error.message}`;
    return undefined;
  });
  if (replicated) cleanups.push(() => replicated.stop());
  const names: BackendNames = {
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: `mdpw-bench:${unique}:`,
    replicatedRedisUrl: replicated?.url ?? '',
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    table: `mdpw_bench_${unique}`,
  };

  try {
    const client = await connectRedis(names.redisUrl);
    cleanups.push(async () => {
      for await (const keys of client.scanStream({ match: `${names.redisPrefix}*`, count: 500 })) {
        if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
      }
      await client.quit();
    });
    await new RedisStore({ client, prefix: names.redisPrefix }).set(INSTANCE_ID, STORED_PASSWORD);
  } catch (error) {
    unavailable.redis = `Redis at ${names.redisUrl}: ${(error as Error).message}`;
  }

  const pool = new Pool({ connectionString: names.databaseUrl, connectionTimeoutMillis: 3000 });
  cleanups.push(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${names.table}`).catch(() => undefined);
    await pool.end();
  });
  try {
    const store = new PostgresStore({ pool, table: names.table });
    await store.migrate();
    await store.set(INSTANCE_ID, STORED_PASSWORD);
  } catch (error) {
    unavailable.postgres = `PostgreSQL at ${names.databaseUrl}: ${(error as Error).message}`;
  }

  return {
    names,
    unavailable,
    async cleanup() {
      await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
    },
  };
}
