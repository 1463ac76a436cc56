import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { Client, Pool } from 'pg';
import { OptionsError } from '../lib/core/options';
import { PostgresStore } from '../lib/stores/postgres';
import { openPostgresStore, uniqueName } from './helpers/store-backends';
import { requireWithoutPeers } from './helpers/store-peer-absent';
import { DATABASE_URL, describeWithPostgres } from './helpers/services';

const POOL_HINT = 'new PostgresStore({ pool: new Pool({ connectionString: process.env.DATABASE_URL }) })';

describe('new PostgresStore() options', () => {
  const pool = new Pool({ connectionString: DATABASE_URL });
  afterAll(() => pool.end());

  test.each([
    ['no options', undefined, 'ERR_INVALID_OPTION', 'takes an options object'],
    ['no pool', {}, 'ERR_MISSING_OPTION', POOL_HINT],
    ['a pg Client instead of a Pool', { pool: new Client() }, 'ERR_INVALID_OPTION', POOL_HINT],
    ['a misspelt option', { pool, tabel: 'x' }, 'ERR_UNKNOWN_OPTION', 'Did you mean `table`?'],
    ['a table name with a space', { pool, table: 'my table' }, 'ERR_INVALID_OPTION', '`table` must be'],
    ['a table name with SQL in it', { pool, table: 'x"; DROP TABLE y; --' }, 'ERR_INVALID_OPTION', '`table`'],
    ['a three-part table name', { pool, table: 'a.b.c' }, 'ERR_INVALID_OPTION', '`table`'],
    ['an empty table name', { pool, table: '' }, 'ERR_INVALID_OPTION', '`table`'],
    ['a timeout of 0', { pool, timeoutMs: 0 }, 'ERR_INVALID_OPTION', '`timeoutMs` must be an integer'],
    ['a logger without warn', { pool, logger: {} }, 'ERR_INVALID_OPTION', '`logger`'],
  ])('%s is refused, saying what to pass', (_case, options, code, message) => {
    const create = () => new PostgresStore(options as never);
    expect(create).toThrow(OptionsError);
    expect(create).toThrow(message);
    expect(create).toThrow(expect.objectContaining({ code }));
  });

  test('defaults: table instance_passwords, 2000 ms', () => {
    const store = new PostgresStore({ pool });
    expect([store.table, store.timeoutMs]).toEqual(['"instance_passwords"', 2000]);
  });

  test('without pg installed, importing the subpath names the package to install', () => {
    const { status, stderr } = requireWithoutPeers(
      [
        'lib/core/options.ts',
        'lib/core/peer.ts',
        'lib/core/timeout.ts',
        'lib/core/write-waiters.ts',
        'lib/stores/store-error.ts',
        'lib/stores/postgres-lease.ts',
        'lib/stores/postgres-listener.ts',
        'lib/stores/postgres.ts',
      ],
      'lib/stores/postgres.js',
    );
    expect(status).not.toBe(0);
    expect(stderr).toContain('express-metadata-password/postgres needs pg: npm install pg');
  });
});

describeWithPostgres('PostgresStore on PostgreSQL', () => {
  const admin = new Pool({ connectionString: DATABASE_URL, max: 2 });
  afterAll(() => admin.end());

  const columns = async (schema: string, table: string) =>
    (
      await admin.query(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, table],
      )
    ).rows;

  test('migrate() creates the table once, from many processes at once', async () => {
    const table = `mdpw_${uniqueName('migrate')}`;
    const pools = Array.from({ length: 8 }, () => new Pool({ connectionString: DATABASE_URL, max: 1 }));
    try {
      const stores = pools.map((pool) => new PostgresStore({ pool, table, timeoutMs: 10_000 }));
      // Connected first, so that the migrations meet in the database (without the lock, some fail).
      await Promise.all(pools.map((pool) => pool.query('SELECT 1')));
      await Promise.all(stores.map((store) => store.migrate()));
      await stores[0].migrate();
      expect(await columns('public', table)).toEqual([
        { column_name: 'id', data_type: 'text', is_nullable: 'NO' },
        { column_name: 'value', data_type: 'bytea', is_nullable: 'NO' },
        { column_name: 'created_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
        { column_name: 'expires_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      ]);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  test('a schema-qualified, mixed-case table name is used exactly as given', async () => {
    const schema = `mdpw_${uniqueName('schema')}`;
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const store = new PostgresStore({ pool, table: `${schema}.Instance_Passwords` });
      await store.migrate();
      await store.setIfAbsent('i-1', 'value');
      const { rows } = await admin.query(`SELECT id FROM "${schema}"."Instance_Passwords"`);
      expect(rows).toEqual([{ id: 'i-1' }]);
    } finally {
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    }
  });

  test('close() removes the pool listener the store added and leaves the pool open', async () => {
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const before = pool.listenerCount('error');
      const stores = [new PostgresStore({ pool }), new PostgresStore({ pool })];
      expect(pool.listenerCount('error')).toBe(before + 2);
      await stores[0].close();
      expect(pool.listenerCount('error')).toBe(before + 1);
      await stores[1].close();
      await stores[1].close();
      expect(pool.listenerCount('error')).toBe(before);
      expect(pool.ended).toBe(false);
      await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await pool.end();
    }
  });

  test('a rejection never carries the row: name, code and message only', async () => {
    const opened = await openPostgresStore('pg_leak');
    try {
      // A host's own constraint whose violation PostgreSQL details with the failing row.
      await admin.query(`ALTER TABLE ${opened.store.table} ADD CHECK (octet_length(value) < 8)`);
      const value = `s3cret-${randomUUID()}`;
      const error = (await opened.store.setIfAbsent('vm-1', value).then(
        () => undefined,
        (rejection: unknown) => rejection,
      )) as Error & { code?: string };
      expect([error.name, error.code, error.message]).toEqual(['error', '23514', expect.stringMatching(/check constraint/)]);
      const serialised = inspect(error, { depth: 10, showHidden: true }) + JSON.stringify(error);
      expect(serialised).not.toContain(value);
      expect(serialised).not.toContain(Buffer.from(value).toString('hex'));
      expect(serialised).not.toContain('vm-1');
    } finally {
      await opened.close();
    }
  });

  describe('with a migrated table', () => {
    let opened: Awaited<ReturnType<typeof openPostgresStore>>;
    const warnings: string[] = [];
    const applicationName = uniqueName('mdpw_pg_store');
    beforeAll(async () => {
      opened = await openPostgresStore(
        'pg_store',
        { max: 1, application_name: applicationName },
        { timeoutMs: 300, logger: { warn: (message: string) => warnings.push(message) } },
      );
    });
    afterAll(() => opened?.close());

    test('expiry is kept in the row, by the database clock; none without a ttl', async () => {
      const [kept, expiring] = [randomUUID(), randomUUID()];
      await opened.store.setIfAbsent(kept, 'v');
      await opened.store.set(expiring, 'v', 60_000);
      const { rows } = await admin.query(
        `SELECT id, extract(epoch FROM expires_at - created_at) * 1000 AS ms FROM ${opened.store.table}
         WHERE id = ANY($1)`,
        [[kept, expiring]],
      );
      expect(Object.fromEntries(rows.map((row) => [row.id, row.ms === null ? null : Number(row.ms)]))).toEqual({
        [kept]: null,
        [expiring]: 60_000,
      });
    });

    test('a call that cannot get a connection in time rejects, and never runs later', async () => {
      const held = await opened.pool.connect();
      const id = randomUUID();
      try {
        await expect(opened.store.setIfAbsent(id, 'late')).rejects.toThrow('PostgreSQL did not answer within 300 ms.');
      } finally {
        held.release();
      }
      await sleep(100);
      await expect(opened.store.get(id)).resolves.toBeUndefined();
    });

    test('a statement stuck behind a lock rejects after timeoutMs, and the store goes on', async () => {
      const locker = await admin.connect();
      try {
        await locker.query(`BEGIN; LOCK TABLE ${opened.store.table} IN ACCESS EXCLUSIVE MODE`);
        await expect(opened.store.get('any')).rejects.toThrow(/300 ms|timeout/);
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
      await expect(opened.store.setIfAbsent(randomUUID(), 'after')).resolves.toBe(true);
    });

    test('an idle connection terminated by the server is reported to the logger, not thrown', async () => {
      await opened.store.get('warm-up');
      expect(opened.pool.idleCount).toBe(1);
      const { rows } = await admin.query(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      expect(rows).toEqual([{ terminated: true }]);
      while (opened.pool.idleCount > 0) await sleep(10);
      expect(warnings).toEqual([expect.stringContaining('terminating connection due to administrator command')]);
      await expect(opened.store.setIfAbsent(randomUUID(), 'after')).resolves.toBe(true);
    });
  });
});

describe('PostgresStore when the database does not answer', () => {
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => silent.close(resolve));
  });

  test('every call rejects after timeoutMs, even while the pool waits to connect', async () => {
    const { port } = silent.address() as { port: number };
    const pool = new Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test' });
    const store = new PostgresStore({ pool, timeoutMs: 300, logger: { warn() {} } });
    try {
      const calls = [store.get('a'), store.setIfAbsent('a', 'v'), store.set('a', 'v'), store.delete('a'), store.migrate()];
      for (const call of calls) await expect(call).rejects.toThrow('PostgreSQL did not answer within 300 ms.');
    } finally {
      for (const socket of sockets) socket.destroy();
      await pool.end();
    }
  });
});
