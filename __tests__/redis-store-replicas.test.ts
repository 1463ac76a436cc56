import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type Redis from 'ioredis';
import request from 'supertest';
import { RedisStore } from '../lib/stores/redis';
import { guestApp } from './helpers/app';
import { connectRedis } from './helpers/store-backends';
import { PrivateRedisServer } from './helpers/store-redis-server';
import { describeWithRedis } from './helpers/services';

// Private servers: redis-server is on every machine these suites run on (describeWithRedis says why
// it skips elsewhere).

/** Resolves once `replica` has synced with its primary. */
async function waitForSync(replica: Redis): Promise<void> {
  while (!((await replica.info('replication')) as string).includes('master_link_status:up')) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeWithRedis('RedisStore with minReplicas', () => {
  let primary: PrivateRedisServer;
  let replica: PrivateRedisServer;
  let client: Redis;
  let replicaClient: Redis;

  beforeAll(async () => {
    primary = await PrivateRedisServer.start(['--save', '']);
    replica = await PrivateRedisServer.start(['--save', '', '--replicaof', '127.0.0.1', String(primary.port)]);
    client = await connectRedis(primary.port);
    replicaClient = await connectRedis(replica.port);
    await waitForSync(replicaClient);
  });
  afterAll(async () => {
    client?.disconnect();
    replicaClient?.disconnect();
    await replica?.stop();
    await primary?.stop();
  });

  test('every write that changed something is on the replica once it is acknowledged', async () => {
    const store = new RedisStore({ client, minReplicas: 1, prefix: 'replicas:' });
    const [once, overwritten] = [randomUUID(), randomUUID()];
    await expect(store.setIfAbsent(once, 'first', 60_000)).resolves.toBe(true);
    await expect(replicaClient.get(`replicas:${once}`)).resolves.toBe('first');
    await expect(store.setIfAbsent(once, 'second')).resolves.toBe(false);
    await store.set(overwritten, 'overwritten');
    await expect(replicaClient.get(`replicas:${overwritten}`)).resolves.toBe('overwritten');
    await expect(store.delete(overwritten)).resolves.toBe(true);
    await expect(replicaClient.exists(`replicas:${overwritten}`)).resolves.toBe(0);
    await expect(store.delete(overwritten)).resolves.toBe(false);
    await expect(store.get(once)).resolves.toBe('first');
  });

  test('asking for more replicas than confirm rejects every write within timeoutMs; the service answers 503', async () => {
    const store = new RedisStore({ client, minReplicas: 2, timeoutMs: 300, prefix: 'replicas:' });
    const id = randomUUID();
    await expect(store.setIfAbsent(id, 'unconfirmed')).rejects.toThrow(
      /^Redis (confirmed the write on 1 replica of the 2 required|did not confirm the write on 2 replicas) within 300 ms; it may have landed\.$/,
    );
    // It landed on the primary (and here on the one replica): a retry finds it set, at once.
    await expect(store.setIfAbsent(id, 'retry')).resolves.toBe(false);
    await expect(store.set(id, 'overwrite')).rejects.toThrow(/may have landed/);
    await expect(store.delete(id)).rejects.toThrow(/may have landed/);
    // Each landed on the primary (read on the same connection, so after them): the clear too.
    await expect(client.exists(`replicas:${id}`)).resolves.toBe(0);

    const host = guestApp({ serviceOptions: { store, format: 'text' } });
    const answer = await request(host.app).post('/openstack/latest/password').set('X-Test-Instance', randomUUID()).send('pw');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    expect(answer.body).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  });

  test('says how many replicas it waited for in words: "1 replica", "0 replicas"', async () => {
    const alone = await PrivateRedisServer.start(['--save', '']);
    const aloneClient = await connectRedis(alone.port);
    try {
      const store = new RedisStore({ client: aloneClient, minReplicas: 1, timeoutMs: 300, prefix: 'replicas:' });
      await expect(store.setIfAbsent(randomUUID(), 'unconfirmed')).rejects.toThrow(
        /^Redis (confirmed the write on 0 replicas of the 1 required|did not confirm the write on 1 replica) within 300 ms; it may have landed\.$/,
      );
    } finally {
      aloneClient.disconnect();
      await alone.stop();
    }
  });
});

describeWithRedis('RedisStore errors never carry the stored value', () => {
  let full: PrivateRedisServer;
  let replica: PrivateRedisServer;
  let client: Redis;
  let replicaClient: Redis;

  beforeAll(async () => {
    full = await PrivateRedisServer.start(['--save', '', '--maxmemory', '1', '--maxmemory-policy', 'noeviction']);
    replica = await PrivateRedisServer.start(['--save', '', '--replicaof', '127.0.0.1', String(full.port)]);
    client = await connectRedis(full.port);
    replicaClient = await connectRedis(replica.port);
    await waitForSync(replicaClient);
  });
  afterAll(async () => {
    client?.disconnect();
    replicaClient?.disconnect();
    await replica?.stop();
    await full?.stop();
  });

  test.each([0, 1])('an OOM rejection (minReplicas %i) keeps name and message, not the arguments', async (minReplicas) => {
    const store = new RedisStore({ client, minReplicas, prefix: 'secret-prefix:' });
    const value = `s3cret-${randomUUID()}`;
    for (const write of [() => store.setIfAbsent('vm-1', value), () => store.set('vm-1', value, 60_000)]) {
      const error = (await write().then(
        () => undefined,
        (rejection: unknown) => rejection,
      )) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ReplyError');
      expect(error.message).toMatch(/^OOM command not allowed/);
      for (const serialised of [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error), String(error.stack)]) {
        expect(serialised).not.toContain(value);
        expect(serialised).not.toContain('secret-prefix:vm-1');
      }
    }
  });

  test('a READONLY rejection from a replica keeps name and message, not the arguments', async () => {
    const store = new RedisStore({ client: replicaClient, prefix: 'secret-prefix:' });
    const value = `s3cret-${randomUUID()}`;
    const error = (await store.set('vm-1', value).then(
      () => undefined,
      (rejection: unknown) => rejection,
    )) as Error;
    expect([error.name, error.message]).toEqual(['ReplyError', expect.stringMatching(/^READONLY/)]);
    expect(inspect(error, { depth: 10, showHidden: true }) + JSON.stringify(error)).not.toContain(value);
  });

  test('a refused write through the service logs no value', async () => {
    const host = guestApp({ serviceOptions: { store: new RedisStore({ client }), format: 'text' } });
    const value = `s3cret-${randomUUID()}`;
    const answer = await request(host.app).post('/openstack/latest/password').set('X-Test-Instance', 'vm-2').send(value);
    expect(answer.status).toBe(503);
    expect(inspect([host.logger.errors, host.logger.warnings, host.events], { depth: 20, showHidden: true })).not.toContain(value);
  });
});
