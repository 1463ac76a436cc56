import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { PostgresStore } from '../lib/stores/postgres';
import type { BackendNames } from './backends';
import { INSTANCE_ID, STORED_PASSWORD } from './fixtures';
import { freePort } from './free-port';
import { measurePair, type Timing } from './measure';
import { startRedis } from './redis-replicas';
import { guestGet, type Backend, type Scenario } from './scenarios';
import { pinApart, startSide, type ServerContext } from './sides';
import { scenarioReport, type ScenarioReport } from './table';
import { stopProcess } from './processes';

/**
 * What one password costs at a million instances: Redis memory per key (a private redis-server),
 * PostgreSQL table and index bytes per row (a table of its own in the bench's database), and the
 * guest GET through the router with 1,000,000 passwords stored against 1,000.
 */

export const SCALE_INSTANCES = 1_000_000;
const SMALL_INSTANCES = 1_000;
/** Keys per pipeline, rows per INSERT while filling. */
const BATCH = 10_000;
const MEMORY_USAGE_SAMPLES = 200;

export interface RedisCost {
  readonly keys: number;
  /** The median of `MEMORY USAGE` (with `SAMPLES 0`) over sampled keys. */
  readonly memoryUsageBytes: number;
  /** `INFO memory` used_memory, after the keys less before, per key. */
  readonly usedMemoryPerKey: number;
  readonly usedMemoryHuman: string;
}

export interface PostgresCost {
  readonly rows: number;
  readonly tableBytesPerRow: number;
  readonly indexBytesPerRow: number;
  readonly totalBytesPerRow: number;
}

export interface ScaleReport {
  readonly instances: number;
  readonly redis?: RedisCost;
  readonly postgres?: PostgresCost;
  /** The guest GET, router on 1,000,000 stored (subject) against 1,000 stored (baseline). */
  readonly gets: readonly ScenarioReport[];
  readonly skipped: readonly string[];
}

const value = (): string => randomBytes(256).toString('base64');

async function fillRedis(client: Redis, prefix: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const pipeline = client.pipeline();
    for (let i = done; i < Math.min(count, done + BATCH); i++) pipeline.set(prefix + randomUUID(), value());
    await pipeline.exec();
  }
  await client.set(prefix + INSTANCE_ID, STORED_PASSWORD);
}

async function usedMemory(client: Redis): Promise<{ bytes: number; human: string }> {
  const info = await client.info('memory');
  return { bytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1]), human: /^used_memory_human:(\S+)/m.exec(info)?.[1] ?? '' };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A private redis-server holding `count` passwords as RedisStore keeps them. */
async function privateRedis(dir: string, count: number, prefix: string) {
  const port = await freePort();
  const child = await startRedis(dir, port, []);
  const client = new Redis(port, '127.0.0.1');
  const before = await usedMemory(client);
  await fillRedis(client, prefix, count);
  const after = await usedMemory(client);
  return {
    url: `redis://127.0.0.1:${port}`,
    client,
    before,
    after,
    stop: async () => {
      client.disconnect();
      await stopProcess(child, () => child.kill('SIGKILL'));
    },
  };
}

async function redisCost(client: Redis, prefix: string, before: number, after: { bytes: number; human: string }): Promise<RedisCost> {
  const sizes: number[] = [];
  const [, keys] = await client.scan('0', 'MATCH', `${prefix}*`, 'COUNT', MEMORY_USAGE_SAMPLES * 2);
  for (const name of keys.slice(0, MEMORY_USAGE_SAMPLES)) sizes.push(Number(await client.call('MEMORY', 'USAGE', name, 'SAMPLES', '0')));
  return {
    keys: SCALE_INSTANCES,
    memoryUsageBytes: median(sizes),
    usedMemoryPerKey: (after.bytes - before) / (SCALE_INSTANCES + 1),
    usedMemoryHuman: after.human,
  };
}

/** Fills `table` (made by `migrate()`) with `count` rows of 36-character ids and 344-byte values. */
async function fillPostgres(pool: Pool, table: string, count: number): Promise<void> {
  await new PostgresStore({ pool, table }).migrate();
  for (let done = 0; done < count; done += BATCH * 10) {
    const rows = Math.min(count - done, BATCH * 10);
    // md5 of a counter as a UUID-shaped id; 344 bytes of base64-looking text as the value.
    await pool.query(
      `INSERT INTO ${table} (id, value) SELECT md5($1::text || g::text)::uuid::text, convert_to(left(repeat(encode(decode(md5(g::text), 'hex'), 'base64'), 15), 344), 'UTF8')
       FROM generate_series(1, $2::int) g`,
      [`${table}-${done}-`, rows],
    );
  }
  await new PostgresStore({ pool, table }).set(INSTANCE_ID, STORED_PASSWORD);
  await pool.query(`VACUUM ANALYZE ${table}`);
}

async function postgresCost(pool: Pool, table: string): Promise<PostgresCost> {
  const { rows } = await pool.query<{ rows: string; heap: string; indexes: string; total: string }>(
    `SELECT (SELECT count(*) FROM ${table}) AS rows, pg_table_size('${table}') AS heap,
       pg_indexes_size('${table}') AS indexes, pg_total_relation_size('${table}') AS total`,
  );
  const count = Number(rows[0].rows);
  return {
    rows: count,
    tableBytesPerRow: Number(rows[0].heap) / count,
    indexBytesPerRow: Number(rows[0].indexes) / count,
    totalBytesPerRow: Number(rows[0].total) / count,
  };
}

function getScenario(backend: Backend, store: string): Scenario {
  return {
    id: `scale-get-${backend}`,
    title: `guest GET, ${store}, ${SCALE_INSTANCES.toLocaleString('en-US')} passwords stored vs ${SMALL_INSTANCES.toLocaleString('en-US')}`,
    backend,
    subject: 'router',
    baseline: 'router',
    pinned: true,
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  };
}

/** Runs the guest GET pair: the router on the large store against the router on the small one. */
async function comparePair(scenario: Scenario, large: BackendNames, small: BackendNames, context: ServerContext, timing: Timing) {
  const servers = [
    await startSide(scenario.id, scenario.subject, scenario.backend, { ...context, names: large }),
    await startSide(scenario.id, scenario.baseline, scenario.backend, { ...context, names: small }),
  ];
  const unpin = pinApart(scenario.id, scenario.pinned, servers);
  try {
    const report = scenarioReport(scenario, await measurePair(scenario, servers[0], servers[1], timing));
    return { ...report, subject: { ...report.subject, side: 'router, 1,000,000' }, baseline: { ...report.baseline, side: 'router, 1,000' } };
  } finally {
    unpin();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** Measures the cost at scale; a store whose server is missing is skipped with the reason. */
export async function measureScale(context: ServerContext, timing: Timing, unavailable: Partial<Record<Backend, string>>): Promise<ScaleReport> {
  const gets: ScenarioReport[] = [];
  const skipped: string[] = [];
  let redis: RedisCost | undefined;
  let postgres: PostgresCost | undefined;

  const dir = mkdtempSync(join(tmpdir(), 'mdpw-bench-scale-'));
  const prefix = 'mdpw:';
  try {
    const large = await privateRedis(join(dir), SCALE_INSTANCES, prefix);
    const small = await privateRedis(mkdtempSync(join(dir, 'small-')), SMALL_INSTANCES, prefix);
    try {
      redis = await redisCost(large.client, prefix, large.before.bytes, large.after);
      const names = (url: string): BackendNames => ({ ...context.names, redisUrl: url, redisPrefix: prefix });
      gets.push(await comparePair(getScenario('redis', 'RedisStore'), names(large.url), names(small.url), context, timing));
    } finally {
      await Promise.all([large.stop(), small.stop()]);
    }
  } catch (error) {
    skipped.push(`Redis: ${(error as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (unavailable.postgres) skipped.push(unavailable.postgres);
  else {
    const pool = new Pool({ connectionString: context.names.databaseUrl });
    const largeTable = `${context.names.table}_scale_large`;
    const smallTable = `${context.names.table}_scale_small`;
    try {
      await fillPostgres(pool, largeTable, SCALE_INSTANCES);
      await fillPostgres(pool, smallTable, SMALL_INSTANCES);
      postgres = await postgresCost(pool, largeTable);
      const names = (table: string): BackendNames => ({ ...context.names, table });
      gets.push(await comparePair(getScenario('postgres', 'PostgresStore'), names(largeTable), names(smallTable), context, timing));
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${largeTable}, ${smallTable}`).catch(() => undefined);
      await pool.end();
    }
  }
  return { instances: SCALE_INSTANCES, redis, postgres, gets, skipped };
}

const bytes = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The cost at scale as Markdown: the bytes per password, then the GET pair rows. */
export function formatScale(report: ScaleReport): string {
  const lines = ['| store | what | bytes per password |', '| --- | --- | ---: |'];
  if (report.redis) {
    lines.push(
      `| Redis | \`MEMORY USAGE\` of one key (median of ${MEMORY_USAGE_SAMPLES}) | ${bytes(report.redis.memoryUsageBytes)} |`,
      `| | \`INFO memory\` used_memory growth / keys (${report.redis.usedMemoryHuman} for ${report.instances.toLocaleString('en-US')}) | ${bytes(report.redis.usedMemoryPerKey)} |`,
    );
  }
  if (report.postgres) {
    lines.push(
      `| PostgreSQL | table (heap) | ${bytes(report.postgres.tableBytesPerRow)} |`,
      `| | primary key index | ${bytes(report.postgres.indexBytesPerRow)} |`,
      `| | total (\`pg_total_relation_size\`) | ${bytes(report.postgres.totalBytesPerRow)} |`,
    );
  }
  for (const reason of report.skipped) lines.push(`| skipped | ${reason} | |`);
  return lines.join('\n');
}
