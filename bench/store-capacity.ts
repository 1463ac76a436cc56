/**
 * Capacity of the shared stores, run by hand on an otherwise idle machine:
 *
 *   npm run build && node dist/bench/store-capacity.js [rows]
 *
 * Measures bytes per stored password (36-character ids, 344-character base64 values: a 2048-bit
 * key's ciphertext) and set-once operations per second, on REDIS_URL and DATABASE_URL (default the
 * local servers). Writes under its own key prefix and table, removed at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { MemoryStore } from '../lib/stores/memory';
import { PostgresStore } from '../lib/stores/postgres';
import { RedisStore } from '../lib/stores/redis';
import type { PasswordStore } from '../lib/types';

const ROWS = Number(process.argv[2] ?? 100_000);
const CONCURRENCY = 64;
const SECONDS = 5;
const GIB = 2 ** 30;
const run = `${process.pid}_${randomBytes(3).toString('hex')}`;
const value = (): string => randomBytes(256).toString('base64');

/** Set-once calls per second with `CONCURRENCY` callers, on fresh ids or all on one id. */
async function setOnceRate(store: PasswordStore, contended: boolean): Promise<number> {
  const contendedId = randomUUID();
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  const caller = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await store.setIfAbsent(contended ? contendedId : randomUUID(), value());
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  return Math.round(done / SECONDS);
}

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function measureRedis(): Promise<string[]> {
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  await new Promise((resolve) => client.once('ready', resolve));
  const prefix = 'mdpw:';
  const ids: string[] = [];
  const before = usedMemory(await client.info('memory'));
  for (let i = 0; i < ROWS; i += 1000) {
    const pipeline = client.pipeline();
    for (let j = i; j < Math.min(ROWS, i + 1000); j++) {
      const id = randomUUID();
      ids.push(id);
      pipeline.set(prefix + id, value(), 'NX');
    }
    await pipeline.exec();
  }
  const perKey = (usedMemory(await client.info('memory')) - before) / ROWS;
  const sampled = Number(await client.call('MEMORY', 'USAGE', prefix + ids[0]));
  for (let i = 0; i < ids.length; i += 1000) await client.del(...ids.slice(i, i + 1000).map((id) => prefix + id));
  const store = new RedisStore({ client, prefix: `mdpw-capacity-${run}:` });
  const rates = [await setOnceRate(store, false), await setOnceRate(store, true)];
  for await (const keys of client.scanStream({ match: `${store.prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
  }
  await client.quit();
  return row('RedisStore', perKey, `MEMORY USAGE ${sampled} B`, rates);
}

async function measurePostgres(): Promise<string[]> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 10 });
  const table = `mdpw_capacity_${run}`;
  const store = new PostgresStore({ pool, table });
  await store.migrate();
  try {
    for (let i = 0; i < ROWS; i += 1000) {
      const ids = Array.from({ length: Math.min(1000, ROWS - i) }, () => randomUUID());
      await pool.query(`INSERT INTO ${store.table} (id, value) SELECT * FROM unnest($1::text[], $2::bytea[])`, [
        ids,
        ids.map(() => Buffer.from(value())),
      ]);
    }
    await pool.query(`VACUUM ANALYZE ${store.table}`);
    const { rows } = await pool.query(
      `SELECT pg_total_relation_size($1) AS total, pg_relation_size($1) AS heap, count(*) AS n FROM ${store.table}`,
      [store.table],
    );
    const perRow = Number(rows[0].total) / Number(rows[0].n);
    const heap = `heap ${Math.round(Number(rows[0].heap) / Number(rows[0].n))} B + index`;
    return row('PostgresStore', perRow, heap, [await setOnceRate(store, false), await setOnceRate(store, true)]);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${store.table}`);
    await pool.end();
  }
}

async function measureMemory(): Promise<string[]> {
  const store = new MemoryStore();
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < ROWS; i++) await store.setIfAbsent(randomUUID(), value());
  global.gc?.();
  const perKey = (process.memoryUsage().heapUsed - before) / store.size;
  const note = global.gc ? 'heap delta' : 'heap delta without --expose-gc';
  return row('MemoryStore', perKey, note, [await setOnceRate(new MemoryStore(), false), await setOnceRate(new MemoryStore(), true)]);
}

function row(name: string, bytesPerPassword: number, detail: string, [fresh, contended]: number[]): string[] {
  return [
    name,
    `${Math.round(bytesPerPassword)} B (${detail})`,
    `${(GIB / bytesPerPassword / 1e6).toFixed(2)} M`,
    String(fresh),
    String(contended),
  ];
}

async function main(): Promise<void> {
  const header = ['store', 'bytes per password', 'passwords per GiB', 'set-once/s, new ids', 'set-once/s, one id'];
  const rows = [await measureMemory(), await measureRedis(), await measurePostgres()];
  console.log(`${ROWS} passwords, ${CONCURRENCY} concurrent callers for ${SECONDS} s, one process\n`);
  for (const line of [header, header.map(() => '---'), ...rows]) console.log(`| ${line.join(' | ')} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
