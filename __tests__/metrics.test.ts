import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry, register as globalRegistry } from 'prom-client';
import request from 'supertest';
import { createDemoHost } from '../examples/demo-host';
import { createServerPasswordRouter, PasswordService, type PasswordStore } from '../lib';
import { createPasswordMetrics } from '../lib/metrics';
import { ciphertext, guestApp, recordingLogger, tokenOwner } from './helpers/app';
import { connectRedis, deleteKeys, uniqueName } from './helpers/store-backends';
import { startClusterServer, stopClusterServers, type ClusterServer } from './helpers/store-cluster-processes';
import { requireWithoutPeers } from './helpers/store-peer-absent';
import { freePort } from './helpers/store-redis-server';
import { describeWithRedis, REDIS_URL } from './helpers/services';

type Labels = Record<string, string>;

/** The value of the sample `name` whose labels are exactly `labels` in Prometheus text, if any. */
function sample(text: string, name: string, labels: Labels = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    const same = Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value);
    if (same) return Number(match[3]);
  }
  return undefined;
}

const EVENTS = 'metadata_password_events_total';
const STORE_CALLS = 'metadata_password_store_duration_seconds_count';
const STORE_SECONDS = 'metadata_password_store_duration_seconds_sum';

/** A guest router and an owner router on one service that feeds fresh metrics. */
function metricsHost(store?: PasswordStore) {
  const metrics = createPasswordMetrics();
  const logger = recordingLogger();
  const service = new PasswordService({ store, onEvent: metrics.onEvent, logger });
  const { app } = guestApp({ service, logger });
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter({
      service,
      logger,
      authenticate: tokenOwner,
      lookupInstance: ({ principal, instanceId }) => (instanceId?.startsWith(`${principal.projectId}-`) ? { id: instanceId } : null),
    }),
  );
  return { app, service, read: () => metrics.registry.metrics() };
}

describe('createPasswordMetrics fed by a PasswordService behind the routers', () => {
  const guestPath = '/openstack/latest/password';

  it('counts each event type, with its reason, and times the store calls behind them', async () => {
    const { app, service, read } = metricsHost();
    const before = await read();
    expect(sample(before, EVENTS, { type: 'password.set', reason: '' })).toBe(0);
    expect(sample(before, STORE_CALLS, { type: 'password.set' })).toBeUndefined();

    await request(app).post(guestPath).set('X-Test-Instance', 'p1-web').send(ciphertext()).expect(200);
    let text = await read();
    expect(sample(text, EVENTS, { type: 'password.set', reason: '' })).toBe(1);
    expect(sample(text, STORE_CALLS, { type: 'password.set' })).toBe(1);
    expect(sample(text, STORE_SECONDS, { type: 'password.set' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'metadata_password_store_duration_seconds_bucket', { type: 'password.set', le: '+Inf' })).toBe(1);

    await request(app).post(guestPath).set('X-Test-Instance', 'p1-web').send(ciphertext()).expect(409);
    text = await read();
    expect(sample(text, EVENTS, { type: 'password.conflict', reason: '' })).toBe(1);
    expect(sample(text, STORE_CALLS, { type: 'password.conflict' })).toBe(1);

    await request(app).get(guestPath).set('X-Test-Instance', 'p1-web').expect(200);
    await request(app).get('/compute/v2.1/servers/p1-web/os-server-password').set('X-Auth-Token', 'reader-p1').expect(200);
    text = await read();
    expect(sample(text, EVENTS, { type: 'password.read', reason: '' })).toBe(2);
    expect(sample(text, STORE_CALLS, { type: 'password.read' })).toBe(2);

    await request(app).delete('/compute/v2.1/servers/p1-web/os-server-password').set('X-Auth-Token', 'member-p1').expect(204);
    text = await read();
    expect(sample(text, EVENTS, { type: 'password.cleared', reason: '' })).toBe(1);
    expect(sample(text, STORE_CALLS, { type: 'password.cleared' })).toBe(1);

    await service.overwrite('p1-web', ciphertext(), { principalId: 'admin' });
    text = await read();
    expect(sample(text, EVENTS, { type: 'password.set', reason: 'overwrite' })).toBe(1);
    expect(sample(text, EVENTS, { type: 'password.set', reason: '' })).toBe(1);
    expect(sample(text, STORE_CALLS, { type: 'password.set' })).toBe(2);
  });

  it('counts rejections and denials by error code, without a store duration', async () => {
    const { app, read } = metricsHost();
    await request(app).post(guestPath).set('X-Test-Instance', 'p1-web').send('Passw0rd').expect(400);
    await request(app).post(guestPath).send(ciphertext()).expect(403);
    await request(app).get('/compute/v2.1/servers/p1-web/os-server-password').expect(401);
    await request(app).get('/compute/v2.1/servers/p1-web/os-server-password').set('X-Auth-Token', 'member-p2').expect(404);
    const text = await read();
    expect(sample(text, EVENTS, { type: 'password.rejected', reason: 'INVALID_PASSWORD' })).toBe(1);
    expect(sample(text, EVENTS, { type: 'access.denied', reason: 'FORBIDDEN' })).toBe(1);
    expect(sample(text, EVENTS, { type: 'access.denied', reason: 'UNAUTHENTICATED' })).toBe(1);
    expect(sample(text, EVENTS, { type: 'access.denied', reason: 'INSTANCE_NOT_FOUND' })).toBe(1);
    expect(text).not.toMatch(/store_duration_seconds_count\{type="(password\.rejected|access\.denied)"/);
  });

  it('counts store.unavailable under an empty reason, never the store error message', async () => {
    const failing: PasswordStore = {
      get: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379 while reading p1-db')),
      setIfAbsent: () => Promise.reject(new Error('connect ETIMEDOUT 10.0.0.8:6379')),
      set: () => Promise.reject(new Error('READONLY')),
      delete: () => Promise.reject(new Error('READONLY')),
    };
    const { app, read } = metricsHost(failing);
    await request(app).get(guestPath).set('X-Test-Instance', 'p1-db').expect(503);
    await request(app).post(guestPath).set('X-Test-Instance', 'p1-db').send(ciphertext()).expect(503);
    const text = await read();
    expect(sample(text, EVENTS, { type: 'store.unavailable', reason: '' })).toBe(2);
    expect(sample(text, STORE_CALLS, { type: 'store.unavailable' })).toBe(2);
    expect(text).not.toMatch(/ECONNREFUSED|ETIMEDOUT|10\.0\.0/);
  });

  it('labels no series with an instance id or principal', async () => {
    const { app, read } = metricsHost();
    await request(app).post(guestPath).set('X-Test-Instance', 'p1-unique-instance-7f3a').send(ciphertext()).expect(200);
    await request(app).get('/compute/v2.1/servers/p1-unique-instance-7f3a/os-server-password').set('X-Auth-Token', 'member-p1').expect(200);
    const text = await read();
    expect(text).not.toContain('unique-instance-7f3a');
    expect(text).not.toContain('member@p1');
    const labelNames = new Set([...text.matchAll(/[{,](\w+)="/g)].map(([, name]) => name));
    expect([...labelNames].sort()).toEqual(['le', 'reason', 'type']);
  });
});

describe('createPasswordMetrics options', () => {
  it('registers in a registry of its own by default, never the global one', async () => {
    const first = createPasswordMetrics();
    const second = createPasswordMetrics();
    expect(first.registry).toBeInstanceOf(Registry);
    expect(first.registry).not.toBe(globalRegistry);
    expect(first.registry).not.toBe(second.registry);
    expect(await globalRegistry.metrics()).not.toContain('metadata_password_');
  });

  it('registers in the given registry, with the given prefix, beside the host metrics', async () => {
    const registry = new Registry();
    new Gauge({ name: 'host_up', help: 'The host.', registers: [registry] });
    const metrics = createPasswordMetrics({ registry, prefix: 'nova_password_' });
    expect(metrics.registry).toBe(registry);
    metrics.onEvent({ type: 'password.read', durationMs: 1.5, at: new Date() });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE host_up gauge');
    expect(text).toContain('# TYPE nova_password_events_total counter');
    expect(text).toContain('# TYPE nova_password_store_duration_seconds histogram');
    expect(sample(text, 'nova_password_events_total', { type: 'password.read', reason: '' })).toBe(1);
    expect(sample(text, 'nova_password_store_duration_seconds_sum', { type: 'password.read' })).toBe(0.0015);
    expect(sample(text, 'nova_password_store_duration_seconds_bucket', { type: 'password.read', le: '0.001' })).toBe(0);
    expect(sample(text, 'nova_password_store_duration_seconds_bucket', { type: 'password.read', le: '0.0025' })).toBe(1);
  });

  it('counts a reason that is not one of the package codes under the empty reason', async () => {
    const metrics = createPasswordMetrics();
    metrics.onEvent({ type: 'access.denied', reason: 'QUOTA_OF_TENANT_42', at: new Date() });
    const text = await metrics.registry.metrics();
    expect(sample(text, EVENTS, { type: 'access.denied', reason: '' })).toBe(1);
    expect(text).not.toContain('TENANT_42');
  });

  it('refuses an unknown option, a bad prefix and a registry that is not one', () => {
    expect(() => createPasswordMetrics({ prefx: 'x_' } as never)).toThrow(/Did you mean `prefix`\?/);
    expect(() => createPasswordMetrics({ prefix: 'bad-prefix' })).toThrow(/`prefix` must be empty or start a Prometheus metric name/);
    expect(() => createPasswordMetrics({ registry: {} as Registry })).toThrow(/`registry` must be a prom-client Registry/);
  });

  it('without prom-client installed, importing the subpath names the package to install', () => {
    const { status, stderr } = requireWithoutPeers(
      ['lib/core/errors.ts', 'lib/core/options.ts', 'lib/core/peer.ts', 'lib/metrics/index.ts'],
      'lib/metrics/index.js',
    );
    expect(status).not.toBe(0);
    expect(stderr).toContain('express-metadata-password/metrics needs prom-client: npm install prom-client');
  });
});

describe('GET /metrics of the running demo server', () => {
  let keyDir: string;
  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), 'mdpw-metrics-demo-'));
  });
  afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

  it('serves the Prometheus text of the events the demo emitted', async () => {
    const demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef', keyDir });
    const server = demo.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const [web, db] = demo.instances;
      const post = await fetch(`${base}/openstack/latest/password`, { method: 'POST', headers: demo.guestHeaders(web), body: ciphertext() });
      expect(post.status).toBe(200);
      const forged = await fetch(`${base}/openstack/latest/password`, { headers: { ...demo.guestHeaders(web), 'X-Instance-ID': db.id } });
      expect(forged.status).toBe(403);

      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      expect(sample(text, EVENTS, { type: 'password.set', reason: '' })).toBe(1);
      expect(sample(text, STORE_CALLS, { type: 'password.set' })).toBe(1);
      expect(sample(text, EVENTS, { type: 'access.denied', reason: 'FORBIDDEN' })).toBe(1);
      expect(text).not.toContain(web.id);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** One request on a connection of its own, so the cluster's round robin spreads them over workers. */
function send(url: string, method: string, headers: Record<string, string> = {}, body = ''): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describeWithRedis('GET /metrics of the cluster example', () => {
  const SECRET = 'cluster-metrics-proxy-secret';
  const prefix = `mdpw-test:${uniqueName('cluster-metrics')}:`;
  let server: ClusterServer | undefined;

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, WORKERS: '2', METADATA_PROXY_SECRET: SECRET };
    server = await startClusterServer(await freePort(), env);
  }, 60_000);
  afterAll(async () => {
    if (server) await stopClusterServers([server]);
    const client = await connectRedis();
    await deleteKeys(client, prefix);
    await client.quit();
  });

  it('answers every scrape with the sum over all workers', async () => {
    const base = server!.baseUrl;
    const POSTS = 6;
    for (let i = 0; i < POSTS; i++) {
      const instanceId = `i-${i}`;
      const headers = {
        'X-Instance-ID': instanceId,
        'X-Tenant-ID': 'p1',
        'X-Instance-ID-Signature': createHmac('sha256', SECRET).update(instanceId).digest('hex'),
      };
      expect((await send(`${base}/openstack/latest/password`, 'POST', headers, ciphertext())).status).toBe(200);
    }
    // Two scrapes: with two workers taking connections in turn, each is answered by another one.
    for (const scrape of [await send(`${base}/metrics`, 'GET'), await send(`${base}/metrics`, 'GET')]) {
      expect(scrape.status).toBe(200);
      expect(scrape.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(sample(scrape.text, EVENTS, { type: 'password.set', reason: '' })).toBe(POSTS);
      expect(sample(scrape.text, STORE_CALLS, { type: 'password.set' })).toBe(POSTS);
    }
  });
});
