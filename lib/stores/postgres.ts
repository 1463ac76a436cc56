import { createHash } from 'node:crypto';
import type { Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { checkKnownOptions, optionalInteger, OptionsError } from '../core/options';
import type { Logger, PasswordStore } from '../types';
import { requirePeer } from '../core/peer';
import { checkOut, type Lease } from './postgres-lease';
import { PostgresListener } from './postgres-listener';
import { storeError } from './store-error';

requirePeer('pg', 'postgres');

/** Options of `new PostgresStore(...)`. */
export interface PostgresStoreOptions {
  /** A pg `Pool`, created and ended by the host; the store never ends it. */
  readonly pool: Pool;
  /**
   * The table passwords are kept in, optionally schema-qualified (`'ops.instance_passwords'`);
   * letters, digits and `_`, quoted as given. Default `'instance_passwords'`. Create it with `migrate()`.
   */
  readonly table?: string;
  /**
   * Milliseconds each call may take, waiting for a connection included, before it rejects.
   * Default 2000.
   */
  readonly timeoutMs?: number;
  /** Where failures of the pool's idle connections are reported. Default `console`. */
  readonly logger?: Pick<Logger, 'warn'>;
}

const WHERE = 'new PostgresStore()';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const LIVE = '(expires_at IS NULL OR expires_at > now())';
// A NULL ttl gives a NULL expiry: never.
const EXPIRES_AT = `now() + $3::float8 * interval '1 millisecond'`;

function checkPool(pool: unknown): asserts pool is Pool {
  const candidate = pool as Partial<Record<'connect' | 'on' | 'totalCount', unknown>> | null | undefined;
  if (
    typeof candidate?.connect === 'function' &&
    typeof candidate.on === 'function' &&
    typeof candidate.totalCount === 'number'
  ) {
    return;
  }
  throw new OptionsError(
    pool === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION',
    `${WHERE}: \`pool\` must be a pg Pool: new PostgresStore({ pool: new Pool({ connectionString: process.env.DATABASE_URL }) }).`,
  );
}

function quoteTable(table: unknown): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${WHERE}: \`table\` must be a table name such as 'instance_passwords' or 'ops.instance_passwords' ` +
        `(letters, digits and _); got ${JSON.stringify(table)}.`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/**
 * A store in PostgreSQL, shared by every process and node that uses the same database: one row
 * per instance, set-once by a single `INSERT ... ON CONFLICT` statement that replaces only an expired row.
 * Expiry follows the database's clock. Every call rejects when PostgreSQL fails or does not answer,
 * or the pool cannot hand out a connection, within `timeoutMs`; a call that timed out waiting for a
 * connection is abandoned, never run later.
 */
export class PostgresStore implements PasswordStore {
  /** The pool the store queries through (the host's; never ended by the store). */
  readonly pool: Pool;
  /** The quoted table name. */
  readonly table: string;
  /** Milliseconds each call may take before it rejects. */
  readonly timeoutMs: number;
  readonly #sql: Record<'get' | 'setIfAbsent' | 'set' | 'delete', Statement>;
  readonly #onPoolError: (error: Error) => void;
  readonly #listener: PostgresListener;

  constructor(options: PostgresStoreOptions) {
    checkKnownOptions(WHERE, options, ['pool', 'table', 'timeoutMs', 'logger']);
    checkPool(options.pool);
    optionalInteger(WHERE, 'timeoutMs', options.timeoutMs, 1, 600_000, 'milliseconds');
    const logger = options.logger ?? console;
    if (typeof logger.warn !== 'function') {
      throw new OptionsError('ERR_INVALID_OPTION', `${WHERE}: \`logger\` must have a \`warn\` method, as console does.`);
    }
    this.pool = options.pool;
    this.table = quoteTable(options.table ?? 'instance_passwords');
    this.timeoutMs = options.timeoutMs ?? 2000;
    const t = this.table;
    const channel = channelOf(this.table);
    this.#listener = new PostgresListener(this.pool, channel, this.timeoutMs);
    const onConflict = `ON CONFLICT (id) DO UPDATE SET value = excluded.value, created_at = excluded.created_at,
      expires_at = excluded.expires_at`;
    this.#sql = statements({
      get: `SELECT value FROM ${t} WHERE id = $1 AND ${LIVE}`,
      // The NOT EXISTS guard answers "already set" without locking a visible live row, so many
      // concurrent attempts on one id do not queue on its row lock; the upsert alone decides a win.
      // Each write announces itself to the store's waiters in its own statement: NOTIFY is sent at
      // commit, so one statement stays one transaction, committed (and replicated) as before.
      setIfAbsent: `WITH written AS (INSERT INTO ${t} AS p (id, value, created_at, expires_at)
        SELECT $1::text, $2::bytea, now(), ${EXPIRES_AT} WHERE NOT EXISTS (SELECT FROM ${t} WHERE id = $1 AND ${LIVE})
        ${onConflict} WHERE p.expires_at <= now() RETURNING p.id)
        SELECT pg_notify('${channel}', id) FROM written`,
      set: `WITH written AS (INSERT INTO ${t} (id, value, created_at, expires_at) VALUES ($1, $2, now(), ${EXPIRES_AT})
        ${onConflict} RETURNING id)
        SELECT pg_notify('${channel}', id) FROM written`,
      delete: `DELETE FROM ${t} WHERE id = $1 RETURNING ${LIVE} AS live`,
    });
    // Without a listener, an idle connection that the server terminates crashes the process.
    this.#onPoolError = (error: Error) => {
      logger.warn(
        `express-metadata-password: a pooled PostgreSQL connection failed and was discarded: ${error.message}`,
      );
    };
    this.pool.on('error', this.#onPoolError);
  }

  /**
   * Ends every wait, gives the listening connection back, and stops listening for the pool's
   * `'error'` events. The pool stays open: it is the host's, and the
   * host ends it (after this, with its own `'error'` listener if it keeps using the pool).
   */
  async close(): Promise<void> {
    await this.#listener.close();
    this.pool.removeListener('error', this.#onPoolError);
  }

  /**
   * Resolves at the next write for `id` by any process using this database (or once `LISTEN` took
   * effect, so the caller reads again); rejects when `signal` aborts, when no connection can listen
   * within `timeoutMs`, or when the listening connection fails. One pooled connection listens on
   * the table's channel while anyone waits, and goes back to the pool when no one does.
   */
  watch(id: string, signal: AbortSignal): Promise<void> {
    return this.#listener.wait(id, signal);
  }

  /**
   * Creates the table when it does not exist. Idempotent, and safe from many processes at once: an
   * advisory lock serialises concurrent migrations.
   */
  async migrate(): Promise<void> {
    const lockKey = this.table.replaceAll('"', '');
    // value holds the password's UTF-8 bytes: a text column cannot hold U+0000.
    await this.#query(
      `SELECT pg_advisory_xact_lock(hashtext('express-metadata-password'), hashtext('${lockKey}'));
      CREATE TABLE IF NOT EXISTS ${this.table} (
        id text PRIMARY KEY,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`,
    );
  }

  async get(id: string): Promise<string | undefined> {
    const { rows } = await this.#query<{ value: Buffer }>(this.#sql.get, [id]);
    return rows.length === 0 ? undefined : rows[0].value.toString('utf8');
  }

  async setIfAbsent(id: string, value: string, ttlMs?: number): Promise<boolean> {
    const { rowCount } = await this.#query(this.#sql.setIfAbsent, [id, Buffer.from(value, 'utf8'), ttlMs ?? null]);
    return rowCount === 1;
  }

  async set(id: string, value: string, ttlMs?: number): Promise<void> {
    await this.#query(this.#sql.set, [id, Buffer.from(value, 'utf8'), ttlMs ?? null]);
  }

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.#query<{ live: boolean }>(this.#sql.delete, [id]);
    return rows.some((row) => row.live);
  }

  /**
   * Runs one statement (one implicit transaction, so committed, with the session's
   * `synchronous_commit`, before it answers) on a pooled connection, within `timeoutMs`. The store
   * never changes a session setting, so a synchronous standby confirms every write it acknowledges.
   *
   * One timer bounds the whole call: a call still waiting for a connection when it fires is
   * abandoned (never run later); a statement still running then has its connection destroyed (as
   * pg's own read timeout does), so a stuck connection never goes back to the pool.
   */
  #query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement | string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    const query: QueryConfig =
      typeof statement === 'string' ? { text: statement, values } : { name: statement.name, text: statement.text, values };
    return new Promise((resolve, reject) => {
      let lease: Lease | undefined;
      let settled = false;
      const settle = (error: unknown, result?: QueryResult<R>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(result as QueryResult<R>);
        else reject(storeError(error));
      };
      const timer = setTimeout(() => {
        const timeout = new Error(`PostgreSQL did not answer within ${this.timeoutMs} ms.`);
        lease?.fail(timeout);
        settle(timeout);
      }, this.timeoutMs);
      checkOut(this.pool, (error, checkedOut) => {
        if (checkedOut === undefined) return settle(error);
        lease = checkedOut;
        if (settled) return lease.release();
        lease.client.query<R>(query, (queryError: Error | undefined, result: QueryResult<R>) => {
          if (queryError) lease?.fail(queryError);
          else lease?.release();
          settle(queryError ?? undefined, result);
        });
      });
    });
  }
}

/** The `NOTIFY` channel of a table's writes: one per table, a lowercase identifier. */
function channelOf(table: string): string {
  return `mdpw_${createHash('sha256').update(table).digest('hex').slice(0, 24)}`;
}

/** A statement prepared once per connection under its name, then only executed. */
interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * Names each statement after its text (another table, another name), so pg prepares it once per
 * pooled connection and PostgreSQL parses and plans it once, not on every call.
 */
function statements<K extends string>(texts: Record<K, string>): Record<K, Statement> {
  const entries = Object.entries<string>(texts).map(([key, text]) => {
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
    return [key, { name: `mdpw_${key}_${digest}`, text }];
  });
  return Object.fromEntries(entries) as Record<K, Statement>;
}
