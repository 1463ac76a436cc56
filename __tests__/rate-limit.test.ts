import { randomUUID } from 'node:crypto';
import type express from 'express';
import Redis from 'ioredis';
import { RedisStore as RateLimitRedisStore, type RedisReply } from 'rate-limit-redis';
import request from 'supertest';
import { createPasswordRouter, OptionsError, PasswordService } from '../lib';
import { ciphertext, guestApp, hostApp } from './helpers/app';
import { describeWithRedis, REDIS_URL } from './helpers/services';

const PATH = '/openstack/latest/password';

describe('rateLimit: per-instance limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the limit, per instance, and emits access.denied', async () => {
    const { app, events, service } = guestApp({ rateLimit: { limit: 3, windowMs: 60_000 } });
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await request(app).get(PATH).set('X-Test-Instance', 'i-1');
      expect(res.status).toBe(200);
      expect(res.headers.ratelimit).toMatch(new RegExp(`r=${2 - attempt}`));
    }
    const limited = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(ciphertext());
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'access.denied', reason: 'RATE_LIMITED', instanceId: 'i-1' }));
    expect((await request(app).get(PATH).set('X-Test-Instance', 'i-2')).status).toBe(200);
  });

  it('is off by default', async () => {
    const { app } = guestApp();
    for (let attempt = 0; attempt < 15; attempt++) {
      expect((await request(app).get(PATH).set('X-Test-Instance', 'i-1')).status).toBe(200);
    }
  });

  it('limits the owner router per caller and server, so one reader cannot lock the members out', async () => {
    const { app } = hostApp({ rateLimit: { limit: 2 } });
    const url = '/compute/v2.1/servers/p1-web/os-server-password';
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await request(app).get(url).set('X-Auth-Token', 'reader-p1')).status).toBe(200);
    }
    expect((await request(app).get(url).set('X-Auth-Token', 'reader-p1')).status).toBe(429);
    expect((await request(app).get(url).set('X-Auth-Token', 'member-p1')).status).toBe(200);
    expect((await request(app).delete(url).set('X-Auth-Token', 'member-p1')).status).toBe(204);
    expect((await request(app).delete(url).set('X-Auth-Token', 'member-p1')).status).toBe(429);
    expect((await request(app).get('/compute/v2.1/servers/p1-db/os-server-password').set('X-Auth-Token', 'reader-p1')).status).toBe(200);
  });

  it('never shares a counter across callers whose principals have no id: 500 INTERNAL, logged naming principalId', async () => {
    // Keystone's shape: userId, not id; and no principalId option.
    const keystone = (req: express.Request) => {
      const match = /^(reader|member)-(\w+)$/.exec(req.get('x-auth-token') ?? '');
      return match ? { userId: `${match[1]}@${match[2]}`, projectId: match[2], roles: [match[1]] } : null;
    };
    const { app, logger, events } = hostApp({ rateLimit: { limit: 3 }, authenticate: keystone as never });
    const url = '/compute/v2.1/servers/p1-web/os-server-password';
    for (const token of ['reader-p1', 'reader-p1', 'reader-p1', 'reader-p1', 'member-p1']) {
      const res = await request(app).get(url).set('X-Auth-Token', token);
      expect([res.status, res.body.error?.code]).toEqual([500, 'INTERNAL']);
    }
    const said = logger.errors.filter(([message]) => String(message).includes('`principalId`'));
    expect(said).toHaveLength(1);
    expect(events.filter((event) => event.type === 'password.read')).toEqual([]);
  });

  it('counts each caller apart once principalId names them', async () => {
    const { app } = hostApp({
      rateLimit: { limit: 3 },
      authenticate: ((req: express.Request) => ({ userId: req.get('x-auth-token'), projectId: 'p1' })) as never,
      principalId: ((principal: { userId: string }) => principal.userId) as never,
    });
    const url = '/compute/v2.1/servers/p1-web/os-server-password';
    const statuses: number[] = [];
    for (const token of ['reader-p1', 'reader-p1', 'reader-p1', 'reader-p1', 'member-p1']) {
      statuses.push((await request(app).get(url).set('X-Auth-Token', token)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 200]);
  });

  it('does not count requests refused before the instance is known', async () => {
    const { app } = guestApp({ rateLimit: { limit: 1 } });
    for (let attempt = 0; attempt < 3; attempt++) expect((await request(app).get(PATH)).status).toBe(403);
    expect((await request(app).get(PATH).set('X-Test-Instance', 'i-1')).status).toBe(200);
  });

  it.each([
    [{ limt: 3 }, /Did you mean `limit`/],
    [{ limit: 0 }, /rateLimit.limit/],
    [{ windowMs: 10 }, /rateLimit.windowMs/],
    [{ store: {} }, /express-rate-limit store/],
  ])('refuses a bad rateLimit option %j at creation', (rateLimit, message) => {
    const create = () =>
      createPasswordRouter({ authenticate: () => null, lookupInstance: () => null, rateLimit: rateLimit as never });
    expect(create).toThrow(OptionsError);
    expect(create).toThrow(message);
  });
});

describeWithRedis('rateLimit: shared across processes with rate-limit-redis', () => {
  const clients: Redis[] = [];
  const prefix = `mdpw-test-rl-${randomUUID()}:`;

  afterAll(async () => {
    const [client] = clients;
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await Promise.all(clients.map((each) => each.quit()));
  });

  function sharedLimitApp() {
    const client = new Redis(REDIS_URL);
    clients.push(client);
    const store = new RateLimitRedisStore({
      prefix,
      sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply>,
    });
    return guestApp({ service: new PasswordService(), rateLimit: { limit: 4, windowMs: 60_000, store } }).app;
  }

  it.each([
    ['maxRetriesPerRequest: null (commands queue forever)', { maxRetriesPerRequest: null }],
    ['the default retries', {}],
  ])('answers 503 STORE_UNAVAILABLE within the store deadline when the limiter store is dead, with %s', async (_, options) => {
    // A port nothing listens on: ioredis keeps reconnecting and queues the commands.
    const dead = new Redis({ host: '127.0.0.1', port: 1, ...options });
    dead.on('error', () => {});
    try {
      const store = new RateLimitRedisStore({
        prefix,
        sendCommand: (command: string, ...args: string[]) => dead.call(command, ...args) as Promise<RedisReply>,
      });
      const { app, service, events } = guestApp({ rateLimit: { limit: 4, store } });
      for (const method of ['get', 'post'] as const) {
        const started = performance.now();
        const res = await request(app)[method](PATH).set('X-Test-Instance', 'i-dead').send(ciphertext());
        expect([res.status, res.body.error.code, res.headers['retry-after']]).toEqual([503, 'STORE_UNAVAILABLE', '1']);
        // The deadline is 2 s; a loaded machine may add some.
        expect(performance.now() - started).toBeLessThan(6000);
      }
      expect(await service.peek('i-dead')).toBeUndefined();
      expect(events.filter((event) => event.type === 'password.set')).toEqual([]);
      // The owner router's limiter, on a store of its own (one per router).
      const ownerStore = new RateLimitRedisStore({
        prefix: `${prefix}owner:`,
        sendCommand: (command: string, ...args: string[]) => dead.call(command, ...args) as Promise<RedisReply>,
      });
      const owner = hostApp({ rateLimit: { limit: 4, store: ownerStore } });
      const started = performance.now();
      const res = await request(owner.app).get('/compute/v2.1/servers/p1-web/os-server-password').set('X-Auth-Token', 'reader-p1');
      expect([res.status, res.body.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
      expect(performance.now() - started).toBeLessThan(6000);
    } finally {
      dead.disconnect();
    }
  }, 30_000);

  it('counts the requests of every app sharing the store against one limit', async () => {
    const apps = [sharedLimitApp(), sharedLimitApp()];
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push((await request(apps[attempt % 2]).get(PATH).set('X-Test-Instance', 'i-shared')).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
