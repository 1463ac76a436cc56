import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { RedisStore } from '../lib/stores/redis';
import { RECOMMENDED_REDIS_OPTIONS, waitUntilReady } from './helpers/store-backends';
import { checkAnswers, countStatuses, planLoad, runLoad, startGuestHost, type GuestHost } from './helpers/store-fault-load';
import { PrivateRedisServer } from './helpers/store-redis-server';
import { describeWithRedis } from './helpers/services';

const DURABLE = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
const TIMEOUT_MS = 10_000;

describeWithRedis('RedisStore when redis-server is killed', () => {
  let server: PrivateRedisServer;
  const clients: Redis[] = [];
  const hosts: GuestHost[] = [];

  beforeAll(async () => {
    server = await PrivateRedisServer.start(DURABLE);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.close()));
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  async function hostOn(client: Redis, timeoutMs: number): Promise<GuestHost> {
    clients.push(client);
    client.on('error', () => {});
    await waitUntilReady(client);
    const host = await startGuestHost(new RedisStore({ client, timeoutMs }));
    hosts.push(host);
    return host;
  }

  // Each test starts from a running server, whatever the previous one left behind.
  beforeEach(async () => {
    await server.kill('SIGKILL');
    await server.restart();
  });

  test('under load: only 200, 409 and 503; the host lives on; every 200 survives a restart', async () => {
    const client = new Redis(server.port, '127.0.0.1', RECOMMENDED_REDIS_OPTIONS);
    const host = await hostOn(client, TIMEOUT_MS);
    let killedAt = Infinity;
    const { answers } = await runLoad(host, planLoad(150, 4), {
      concurrency: 32,
      faultAfter: 400,
      fault: async () => {
        await server.kill('SIGKILL');
        killedAt = Date.now();
      },
    });
    const counts = countStatuses(answers);
    expect(counts).toEqual({ 200: expect.any(Number), 409: expect.any(Number), 503: expect.any(Number) });
    const winners = checkAnswers(answers);
    // While Redis is down, the recommended settings refuse at once instead of waiting out timeoutMs
    // in ioredis's offline queue (the bound is generous: a loaded machine is slow, not 10 s slow).
    const whileDown = answers.filter((answer) => answer.sentAt > killedAt);
    expect(whileDown.length).toBeGreaterThan(100);
    expect(whileDown.filter((answer) => answer.status !== 503)).toEqual([]);
    expect(whileDown.filter((answer) => answer.ms >= TIMEOUT_MS / 2)).toEqual([]);
    expect(await host.health()).toBe(200);

    await server.restart();
    await waitUntilReady(client);
    for (const [instanceId, body] of winners) {
      expect(await host.request(instanceId, 'GET')).toMatchObject({ status: 200, text: body });
    }
    // A write refused while Redis was down never lands later: nothing is queued or resent.
    const lateBodies = new Set(answers.filter((a) => a.method === 'POST' && a.sentAt > killedAt).map((a) => a.body));
    for (const instanceId of new Set(answers.map((answer) => answer.instanceId))) {
      const { status, text } = await host.request(instanceId, 'GET');
      expect(status).toBe(200);
      expect(lateBodies.has(text)).toBe(false);
    }
  });

  test('with default ioredis settings the store still answers 503 after timeoutMs, and a queued write lands on reconnect', async () => {
    const client = new Redis(server.port, '127.0.0.1');
    const host = await hostOn(client, 500);
    const instanceId = `defaults-${Date.now()}`;
    await server.kill('SIGKILL');

    // The offline queue holds the SET; the store gives up after timeoutMs, never sooner.
    const post = await host.request(instanceId, 'POST', 'queued-while-down');
    expect(post).toMatchObject({ status: 503, retryAfter: '1' });
    expect(post.ms).toBeGreaterThanOrEqual(450);
    expect(await host.request(instanceId, 'GET')).toMatchObject({ status: 503, retryAfter: '1' });
    expect(await host.health()).toBe(200);

    // ioredis kept the SET in its offline queue and sends it once Redis is back: the guest's retry
    // gets 409, and the owner reads what the guest posted.
    await server.restart();
    await waitUntilReady(client);
    await sleep(100);
    expect(await host.request(instanceId, 'POST', 'retry')).toMatchObject({ status: 409 });
    expect(await host.request(instanceId, 'GET')).toMatchObject({ status: 200, text: 'queued-while-down' });
  });
});
