import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { createServerPasswordRouter, MemoryStore, PasswordService, type PasswordStore } from '../lib';
import { ciphertext } from './helpers/app';
import { connectRedis, deleteKeys, openPostgresStore, uniqueName } from './helpers/store-backends';
import { startClusterServer, stopClusterServers, type ClusterServer } from './helpers/store-cluster-processes';
import { freePort } from './helpers/store-redis-server';
import { DATABASE_URL, describeWithPostgres, describeWithRedis, REDIS_URL } from './helpers/services';
import { RedisStore } from '../lib/stores/redis';
import { FOREIGN, ownerGet, PROXY_SECRET, signedGuestPost, sleep, startWaitHost } from './helpers/wait-host';

const OWNER_OPTIONS = { authenticate: () => ({}), lookupInstance: () => null, service: new PasswordService() };

describe('createServerPasswordRouter() maxWait and maxWaiters', () => {
  test.each([
    [{ maxWait: 0 }, '`maxWait` must be an integer from 1 to 3600 (seconds)'],
    [{ maxWait: 3601 }, '`maxWait` must be an integer from 1 to 3600'],
    [{ maxWait: 1.5 }, '`maxWait` must be an integer'],
    [{ maxWait: '60' }, '`maxWait` must be an integer'],
    [{ maxWaiters: -1 }, '`maxWaiters` must be an integer from 0'],
    [{ maxWaiters: 2.5 }, '`maxWaiters` must be an integer'],
    [{ maxWiat: 5 }, 'Did you mean `maxWait`?'],
    [{ maxWaiter: 5 }, 'Did you mean `maxWaiters`?'],
  ])('%j is refused at creation, saying what to pass', (extra, message) => {
    expect(() => createServerPasswordRouter({ ...OWNER_OPTIONS, ...(extra as object) })).toThrow(message);
  });

  test('1 to 3600 seconds and 0 or more waiters are taken', () => {
    for (const extra of [{ maxWait: 1 }, { maxWait: 3600 }, { maxWaiters: 0 }, { maxWaiters: 5000 }]) {
      expect(() => createServerPasswordRouter({ ...OWNER_OPTIONS, ...extra })).not.toThrow();
    }
  });
});

describe('Prefer: wait as RFC 7240 reads it (MemoryStore)', () => {
  let host: Awaited<ReturnType<typeof startWaitHost>>;
  beforeAll(async () => {
    host = await startWaitHost(new MemoryStore(), { maxWait: 2 });
  });
  afterAll(() => host.close());

  test.each(['wait=0', 'wait=abc', 'wait=-1', 'wait=1.5', 'respond-async', 'handling=lenient', 'wait', ''])(
    '%j is ignored: answered at once, no Preference-Applied',
    async (prefer) => {
      const answer = await ownerGet(host.baseUrl, randomUUID(), prefer);
      expect([answer.status, answer.password, answer.applied]).toEqual([200, '', null]);
      expect(answer.elapsedMs).toBeLessThan(500);
    },
  );

  test.each(['wait=1', 'Wait=1', 'wait="1"', 'respond-async, wait=1', 'wait=1; extension=x', ' wait = 1 '])(
    '%j waits 1 s and says so',
    async (prefer) => {
      const answer = await ownerGet(host.baseUrl, randomUUID(), prefer);
      expect([answer.status, answer.password, answer.applied]).toEqual([200, '', 'wait=1']);
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(950);
    },
  );

  test('a wait above maxWait is cut to it', async () => {
    const answer = await ownerGet(host.baseUrl, randomUUID(), `wait=${'9'.repeat(400)}`);
    expect([answer.status, answer.applied]).toEqual([200, 'wait=2']);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(1950);
    expect(answer.elapsedMs).toBeLessThan(5000);
  });

  test('when a password is already set nothing changes: answered at once, no Preference-Applied', async () => {
    const id = randomUUID();
    const value = ciphertext();
    await host.service.setOnce(id, value);
    const answer = await ownerGet(host.baseUrl, id, 'wait=30');
    expect([answer.status, answer.password, answer.applied]).toEqual([200, value, null]);
    expect(answer.elapsedMs).toBeLessThan(500);
  });

  test('HEAD is answered at once', async () => {
    const started = performance.now();
    const response = await fetch(`${host.baseUrl}/compute/v2.1/servers/${randomUUID()}/os-server-password`, {
      method: 'HEAD',
      headers: { 'X-Auth-Token': 'wait-owner-token', Prefer: 'wait=30' },
    });
    expect([response.status, response.headers.get('preference-applied')]).toEqual([200, null]);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

/** A host's own store: no `watch`, so the service polls it; counts its reads and can be broken. */
class HostOwnStore implements PasswordStore {
  readonly values = new Map<string, string>();
  reads = 0;
  broken = false;
  async get(id: string) {
    this.reads++;
    if (this.broken) throw new Error('the host store is down');
    return this.values.get(id);
  }
  async setIfAbsent(id: string, value: string) {
    if (this.values.has(id)) return false;
    this.values.set(id, value);
    return true;
  }
  async set(id: string, value: string) {
    this.values.set(id, value);
  }
  async delete(id: string) {
    return this.values.delete(id);
  }
}

/** A store the suite's host reads, how the other side writes to it, and how to break the waiting. */
interface OpenedWaitBackend {
  readonly store: PasswordStore;
  /** Lands a guest POST of `value` for `id`: through another process where the store is shared. */
  write(id: string, value: string): Promise<void>;
  /** Breaks what the waits depend on (the subscriber, the listening connection, the store). */
  breakWaiting(): Promise<void>;
  /** Undoes `breakWaiting` where the store does not recover by itself. */
  repair(): void;
  /** Connections or polls held for waiting right now: 0 once nobody waits. */
  held(id: string): Promise<number>;
  /** How late a held GET may answer after the POST landed. */
  readonly wakeWithinMs: number;
  close(): Promise<void>;
}

interface WaitBackend {
  readonly name: string;
  readonly describe: jest.Describe;
  open(): Promise<OpenedWaitBackend>;
}

/** `probe`'s first defined result, tried every 100 ms for up to 10 s; fails the test after that. */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(100);
  }
  throw new Error('what the test waits for did not happen within 10 s');
}

async function otherProcess(env: Record<string, string>): Promise<ClusterServer> {
  return startClusterServer(await freePort(), { ...env, WORKERS: '1', METADATA_PROXY_SECRET: PROXY_SECRET });
}

async function expectPosted(server: ClusterServer, id: string, value: string): Promise<void> {
  expect(await signedGuestPost(server.baseUrl, id, value)).toBe(200);
}

const backends: WaitBackend[] = [
  {
    name: 'MemoryStore (in process)',
    describe,
    async open() {
      const store = new MemoryStore();
      const writer = new PasswordService({ store });
      return {
        store,
        write: async (id, value) => void (await writer.setOnce(id, value)),
        breakWaiting: () => store.close(),
        repair: () => {},
        held: async () => 0,
        wakeWithinMs: 1000,
        close: () => store.close(),
      };
    },
  },
  {
    name: "a host's own store without watch (polled)",
    describe,
    async open() {
      const store = new HostOwnStore();
      const writer = new PasswordService({ store });
      return {
        store,
        write: async (id, value) => void (await writer.setOnce(id, value)),
        breakWaiting: async () => {
          store.broken = true;
        },
        repair: () => {
          store.broken = false;
        },
        async held() {
          const before = store.reads;
          await sleep(2500);
          return store.reads - before;
        },
        // Polled about once a second.
        wakeWithinMs: 1600,
        close: async () => {},
      };
    },
  },
  {
    name: 'RedisStore (two processes)',
    describe: describeWithRedis,
    async open() {
      const name = uniqueName('wait');
      const prefix = `mdpw-test:${name}:`;
      // The subscriber is a duplicate of this client, so it carries the same connection name.
      const client: Redis = await connectRedis(REDIS_URL, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectionName: name,
      });
      const store = new RedisStore({ client, prefix });
      const server = await otherProcess({ REDIS_URL, REDIS_PREFIX: prefix });
      return {
        store,
        write: (id, value) => expectPosted(server, id, value),
        async breakWaiting() {
          // The subscriber connects at the first wait: on a loaded machine that can take a while.
          const subscriber = await eventually(async () => {
            const clients = String(await client.call('client', 'list')).split('\n');
            return clients.find((line) => line.includes(` name=${name} `) && / sub=[1-9]/.test(line));
          });
          await client.call('client', 'kill', 'id', /\bid=(\d+)/.exec(subscriber)?.[1] as string);
        },
        repair: () => {},
        async held(id) {
          const [, subscribers] = (await client.call('pubsub', 'numsub', `${prefix}written:${id}`)) as [string, number];
          return subscribers;
        },
        wakeWithinMs: 1000,
        async close() {
          await stopClusterServers([server]);
          await store.close();
          await deleteKeys(client, prefix);
          await client.quit();
        },
      };
    },
  },
  {
    name: 'PostgresStore (two processes)',
    describe: describeWithPostgres,
    async open() {
      const applicationName = uniqueName('wait');
      const opened = await openPostgresStore('wait', { application_name: applicationName });
      const pool: Pool = opened.pool;
      const server = await otherProcess({ DATABASE_URL, PASSWORD_TABLE: opened.store.table.replaceAll('"', '') });
      return {
        store: opened.store,
        write: (id, value) => expectPosted(server, id, value),
        async breakWaiting() {
          // The listening connection is opened at the first wait: on a loaded machine that can take a while.
          const rows = await eventually(async () => {
            const { rows } = await pool.query(
              `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
              [applicationName],
            );
            return rows.length > 0 ? rows : undefined;
          });
          expect(rows).toEqual([{ ended: true }]);
        },
        repair: () => {},
        held: async () => pool.totalCount - pool.idleCount,
        wakeWithinMs: 1000,
        async close() {
          await stopClusterServers([server]);
          await opened.close();
        },
      };
    },
  },
];

describe.each(backends)('Prefer: wait on $name', (backend) => {
  backend.describe('the owner GET waits for the guest', () => {
    let opened: OpenedWaitBackend;
    beforeAll(async () => {
      opened = await backend.open();
    }, 60_000);
    afterAll(() => opened?.close(), 30_000);

    /** A host over the backend's store with the owner router's `overrides`, closed after `run`. */
    async function withHost(
      overrides: Parameters<typeof startWaitHost>[1],
      run: (host: Awaited<ReturnType<typeof startWaitHost>>) => Promise<void>,
    ): Promise<void> {
      const host = await startWaitHost(opened.store, overrides);
      try {
        await run(host);
      } finally {
        await host.close();
      }
    }

    /** Holds a GET, lands a POST, and checks the GET answered with it in time. */
    async function expectWokenByPost(baseUrl: string): Promise<void> {
      const id = randomUUID();
      const value = ciphertext();
      const held = ownerGet(baseUrl, id, 'wait=20');
      await sleep(1200);
      await opened.write(id, value);
      const landed = performance.now();
      const answer = await held;
      expect([answer.status, answer.password, answer.applied]).toEqual([200, value, 'wait=20']);
      expect(answer.at - landed).toBeLessThan(opened.wakeWithinMs);
      await expectReleased(id);
    }

    /** Nothing is held for waiting on `id` within a second of its wait ending. */
    async function expectReleased(id: string): Promise<void> {
      let held = await opened.held(id);
      for (let attempt = 0; held > 0 && attempt < 10; attempt++) {
        await sleep(100);
        held = await opened.held(id);
      }
      expect(held).toBe(0);
    }

    test('a held GET answers within a second of the POST landing, saying it waited; nothing is held after', async () => {
      await withHost({}, async (host) => {
        await expectWokenByPost(host.baseUrl);
        expect(host.events.filter((event) => event.type === 'password.read')).toHaveLength(1);
      });
    }, 30_000);

    test('a wait that times out answers 200 with an empty password and Preference-Applied', async () => {
      await withHost({ maxWait: 1 }, async (host) => {
        const id = randomUUID();
        const answer = await ownerGet(host.baseUrl, id, 'wait=600');
        expect([answer.status, answer.password, answer.applied]).toEqual([200, '', 'wait=1']);
        expect(answer.elapsedMs).toBeGreaterThanOrEqual(950);
        expect(answer.elapsedMs).toBeLessThan(4000);
        await expectReleased(id);
      });
    }, 30_000);

    test('access runs first: unauthenticated 401 and not found 404 at once; the rate limit counts a wait once', async () => {
      await withHost({ rateLimit: { limit: 2, windowMs: 60_000 } }, async (host) => {
        const anonymous = await ownerGet(host.baseUrl, randomUUID(), 'wait=30', { token: 'nobody' });
        const foreign = await ownerGet(host.baseUrl, `${FOREIGN}${randomUUID()}`, 'wait=30');
        for (const [answer, status] of [[anonymous, 401], [foreign, 404]] as const) {
          expect([answer.status, answer.applied]).toEqual([status, null]);
          expect(answer.elapsedMs).toBeLessThan(1000);
        }
        const id = randomUUID();
        expect((await ownerGet(host.baseUrl, id, 'wait=1')).applied).toBe('wait=1');
        expect((await ownerGet(host.baseUrl, id)).status).toBe(200);
        const limited = await ownerGet(host.baseUrl, id, 'wait=30');
        expect([limited.status, limited.applied]).toEqual([429, null]);
        expect(limited.elapsedMs).toBeLessThan(1000);
      });
    }, 30_000);

    test('a client that disconnects frees its wait at once', async () => {
      await withHost({ maxWaiters: 1 }, async (host) => {
        const id = randomUUID();
        const gone = new AbortController();
        const abandoned = ownerGet(host.baseUrl, id, 'wait=30', { signal: gone.signal }).catch((error: Error) => error);
        await sleep(1200);
        gone.abort();
        expect(await abandoned).toMatchObject({ name: 'AbortError' });
        await expectReleased(id);
        // The one place is free again.
        const next = await ownerGet(host.baseUrl, randomUUID(), 'wait=1');
        expect([next.status, next.applied]).toEqual([200, 'wait=1']);
      });
    }, 30_000);

    test('past maxWaiters a GET is answered at once without Preference-Applied; the held one still wakes', async () => {
      await withHost({ maxWaiters: 1 }, async (host) => {
        const id = randomUUID();
        const value = ciphertext();
        const held = ownerGet(host.baseUrl, id, 'wait=20');
        await sleep(1200);
        const turnedAway = await ownerGet(host.baseUrl, id, 'wait=20');
        expect([turnedAway.status, turnedAway.password, turnedAway.applied]).toEqual([200, '', null]);
        expect(turnedAway.elapsedMs).toBeLessThan(1000);
        await opened.write(id, value);
        expect(await held).toMatchObject({ status: 200, password: value, applied: 'wait=20' });
      });
    }, 30_000);

    test('a store failure during a wait answers 503 and frees the waiter; the next wait works', async () => {
      await withHost({}, async (host) => {
        const id = randomUUID();
        const held = fetch(`${host.baseUrl}/compute/v2.1/servers/${id}/os-server-password`, {
          headers: { 'X-Auth-Token': 'wait-owner-token', Prefer: 'wait=20' },
        });
        await sleep(1200);
        await opened.breakWaiting();
        const broken = performance.now();
        const response = await held;
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).not.toBeNull();
        expect(response.headers.get('preference-applied')).toBeNull();
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
        expect(performance.now() - broken).toBeLessThan(3000);
        expect(host.events).toContainEqual(expect.objectContaining({ type: 'store.unavailable', instanceId: id }));
        opened.repair();
        await expectWokenByPost(host.baseUrl);
      });
    }, 30_000);
  });
});
