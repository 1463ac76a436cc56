import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import Redis, { Cluster } from 'ioredis';
import { OptionsError } from '../lib/core/options';
import { RedisStore } from '../lib/stores/redis';
import { connectRedis, openRedisStore, RECOMMENDED_REDIS_OPTIONS, uniqueName } from './helpers/store-backends';
import { requireWithoutPeers } from './helpers/store-peer-absent';
import { freePort, PrivateRedisServer } from './helpers/store-redis-server';
import { describeWithRedis } from './helpers/services';

const CLIENT_HINT = 'new RedisStore({ client: new Redis(process.env.REDIS_URL) })';

describe('new RedisStore() options', () => {
  const client = new Redis({ lazyConnect: true });

  test.each([
    ['no options', undefined, 'ERR_INVALID_OPTION', 'takes an options object'],
    ['no client', {}, 'ERR_MISSING_OPTION', CLIENT_HINT],
    ['a client that is not ioredis', { client: { get() {}, set() {}, del() {} } }, 'ERR_INVALID_OPTION', CLIENT_HINT],
    ['a misspelt option', { client, prefx: 'a:' }, 'ERR_UNKNOWN_OPTION', 'Did you mean `prefix`?'],
    ['a prefix that is not a string', { client, prefix: 7 }, 'ERR_INVALID_OPTION', '`prefix` must be a string'],
    ['a timeout of 0', { client, timeoutMs: 0 }, 'ERR_INVALID_OPTION', '`timeoutMs` must be an integer'],
    ['minReplicas below 0', { client, minReplicas: -1 }, 'ERR_INVALID_OPTION', '`minReplicas` must be an integer from 0 to 100'],
    ['minReplicas not an integer', { client, minReplicas: 1.5 }, 'ERR_INVALID_OPTION', '`minReplicas` must be an integer'],
    ['minReplicas as a string', { client, minReplicas: '1' }, 'ERR_INVALID_OPTION', '`minReplicas` must be an integer'],
    ['minReplicas over 100', { client, minReplicas: 101 }, 'ERR_INVALID_OPTION', '`minReplicas` must be an integer'],
    ['a misspelt minReplicas', { client, minReplica: 1 }, 'ERR_UNKNOWN_OPTION', 'Did you mean `minReplicas`?'],
  ])('%s is refused, saying what to pass', (_case, options, code, message) => {
    const create = () => new RedisStore(options as never);
    expect(create).toThrow(OptionsError);
    expect(create).toThrow(message);
    expect(() => create()).toThrow(expect.objectContaining({ code }));
  });

  test('defaults: prefix mdpw:, 2000 ms, no replica waited for', () => {
    const store = new RedisStore({ client });
    expect([store.prefix, store.timeoutMs, store.minReplicas]).toEqual(['mdpw:', 2000, 0]);
  });

  test('without ioredis installed, importing the subpath names the package to install', () => {
    const { status, stderr } = requireWithoutPeers(
      [
        'lib/core/options.ts',
        'lib/core/peer.ts',
        'lib/core/timeout.ts',
        'lib/core/write-waiters.ts',
        'lib/stores/store-error.ts',
        'lib/stores/redis-pipeline.ts',
        'lib/stores/redis-subscriber.ts',
        'lib/stores/redis.ts',
      ],
      'lib/stores/redis.js',
    );
    expect(status).not.toBe(0);
    expect(stderr).toContain('express-metadata-password/redis needs ioredis: npm install ioredis');
  });
});

describeWithRedis('RedisStore on Redis', () => {
  let opened: Awaited<ReturnType<typeof openRedisStore>>;
  beforeAll(async () => {
    opened = await openRedisStore('redis-store');
  });
  afterAll(() => opened?.close());

  test('a password is one string key, prefix + instance id, expiring only with a ttl', async () => {
    const { store, client } = opened;
    const [kept, expiring] = [randomUUID(), randomUUID()];
    await store.setIfAbsent(kept, 'value');
    await store.setIfAbsent(expiring, 'value', 60_000);
    await expect(client.get(store.prefix + kept)).resolves.toBe('value');
    await expect(client.pttl(store.prefix + kept)).resolves.toBe(-1);
    const ttl = await client.pttl(store.prefix + expiring);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  test('a Redis error rejects the call with it', async () => {
    const { store, client } = opened;
    const id = randomUUID();
    await client.hset(store.prefix + id, 'field', 'value');
    await expect(store.get(id)).rejects.toThrow(/WRONGTYPE/);
  });

  test("close() ends the store's own subscriber connection, made at the first wait, never the host's client", async () => {
    const name = uniqueName('redis-close');
    const client = await connectRedis(undefined, { ...RECOMMENDED_REDIS_OPTIONS, connectionName: name });
    const store = new RedisStore({ client, prefix: opened.store.prefix });
    const connections = async () =>
      String(await client.call('client', 'list'))
        .split('\n')
        .filter((line) => line.includes(` name=${name} `)).length;
    try {
      expect(await connections()).toBe(1);
      const waiting = new AbortController();
      // Resolves once the subscription is confirmed, so the caller reads again.
      await store.watch(randomUUID(), waiting.signal);
      expect(await connections()).toBe(2);
      const pending = store.watch(randomUUID(), waiting.signal);
      await store.close();
      await expect(pending).rejects.toThrow('closed');
      for (let attempt = 0; attempt < 20 && (await connections()) > 1; attempt++) await new Promise((r) => setTimeout(r, 50));
      expect(await connections()).toBe(1);
      expect(client.status).toBe('ready');
      expect(await store.get(randomUUID())).toBeUndefined();
    } finally {
      await client.quit();
    }
  });
});

describe('RedisStore when Redis does not answer', () => {
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test('with default ioredis settings, every call rejects after timeoutMs instead of waiting in the offline queue', async () => {
    const client = new Redis(port, '127.0.0.1');
    const store = new RedisStore({ client, timeoutMs: 300 });
    try {
      const calls = [store.get('a'), store.setIfAbsent('a', 'v'), store.set('a', 'v', 1000), store.delete('a')];
      for (const call of calls) await expect(call).rejects.toThrow('Redis did not answer within 300 ms.');
    } finally {
      client.disconnect();
    }
  });

  test('with the recommended settings, a call while disconnected rejects at once', async () => {
    const client = new Redis(await freePort(), '127.0.0.1', RECOMMENDED_REDIS_OPTIONS);
    client.on('error', () => {});
    const store = new RedisStore({ client, timeoutMs: 5000 });
    try {
      await expect(store.setIfAbsent('a', 'v')).rejects.toThrow(/enableOfflineQueue/);
    } finally {
      client.disconnect();
    }
  });
});

describeWithRedis('RedisStore on Redis Cluster', () => {
  let server: PrivateRedisServer;
  let cluster: Cluster;

  beforeAll(async () => {
    server = await PrivateRedisServer.start([
      '--cluster-enabled',
      'yes',
      '--cluster-announce-ip',
      '127.0.0.1',
      '--save',
      '',
    ]);
    const admin = await connectRedis(server.port);
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    while (!(await admin.call('CLUSTER', 'INFO') as string).includes('cluster_state:ok')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await admin.quit();
    cluster = new Cluster([{ host: '127.0.0.1', port: server.port }], {
      enableOfflineQueue: false,
      redisOptions: RECOMMENDED_REDIS_OPTIONS,
    });
    await new Promise((resolve) => cluster.once('ready', resolve));
  });
  afterAll(async () => {
    await cluster?.quit();
    await server?.stop();
  });

  test('set-once, read, expire and delete work through a Cluster client', async () => {
    const store = new RedisStore({ client: cluster, prefix: `mdpw-test:${uniqueName('cluster')}:` });
    const id = randomUUID();
    await expect(store.setIfAbsent(id, 'first', 60_000)).resolves.toBe(true);
    await expect(store.setIfAbsent(id, 'second')).resolves.toBe(false);
    await expect(store.get(id)).resolves.toBe('first');
    await expect(cluster.pttl(store.prefix + id)).resolves.toBeGreaterThan(55_000);
    await expect(store.delete(id)).resolves.toBe(true);
    await expect(store.get(id)).resolves.toBeUndefined();
  });
});
