/**
 * Many worker processes (node:cluster) serving the guest and owner routers on one shared store, as a
 * metadata API runs on every node of a cloud. Set-once holds across all of them because the store
 * (Redis or PostgreSQL) decides it.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node dist/examples/cluster.js
 *   REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379 REDIS_SENTINEL_NAME=mymaster \
 *     REDIS_MIN_REPLICAS=1 node dist/examples/cluster.js
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node dist/examples/cluster.js
 *
 * `GET /metrics` answers the password metrics of all workers together (examples/cluster-metrics.ts).
 *
 * Environment: PORT (8775), HOST (127.0.0.1), WORKERS (the CPU count), METADATA_PROXY_SECRET (the
 * proxy's shared secret), OWNER_TOKEN (the owner's bearer token), REDIS_PREFIX ('mdpw:'),
 * REDIS_SENTINELS (host:port list, instead of REDIS_URL), REDIS_SENTINEL_NAME ('mymaster'),
 * REDIS_MIN_REPLICAS (0; replicas that must confirm each write), PASSWORD_TABLE ('instance_passwords'),
 * NODE_CLUSTER_SCHED_POLICY (Node's own: 'none' or 'rr'; this example defaults to 'none' on Linux,
 * see `scheduleAccepts`).
 */
import cluster from 'node:cluster';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import express, { type Request } from 'express';
import Redis from 'ioredis';
import { Pool } from 'pg';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  PasswordService,
  signedProxyIdentity,
  type PasswordStore,
} from '../lib';
import { createPasswordMetrics } from '../lib/metrics';
import { PostgresStore } from '../lib/stores/postgres';
import { RedisStore } from '../lib/stores/redis';
import { aggregateWorkerMetrics, clusterMetricsHandler } from './cluster-metrics';

const env = process.env;
const port = Number(env.PORT ?? 8775);
const host = env.HOST ?? '127.0.0.1';
const workers = Number(env.WORKERS ?? availableParallelism());
/**
 * The secret Nova's or Neutron's metadata proxy signs each guest request's instance id with
 * (`metadata_proxy_shared_secret`): whoever knows it can speak for any instance. The fallback is
 * public, in this file, so that the example starts without set-up; a real deployment sets
 * METADATA_PROXY_SECRET to its proxies' secret (`openssl rand -hex 32`).
 */
const DEMO_PROXY_SECRET = 'demo-only-secret-0123456789abcdef';
const secret = env.METADATA_PROXY_SECRET ?? DEMO_PROXY_SECRET;
const ownerToken = Buffer.from(env.OWNER_TOKEN ?? 'demo-owner-token');

/** A store on the shared backend, and how to let go of its connections. */
interface SharedStore {
  readonly store: PasswordStore;
  readonly name: string;
  close(): Promise<void>;
}

/** `host:port,host:port` as ioredis's `sentinels`. */
function parseSentinels(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((address) => {
    const colon = address.lastIndexOf(':');
    const port = Number(address.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(port)) throw new Error(`REDIS_SENTINELS: expected host:port, got "${address}".`);
    return { host: address.slice(0, colon).trim(), port };
  });
}

/** A Redis client on REDIS_URL, or on the primary the sentinels of REDIS_SENTINELS name. */
function redisClient(): Redis {
  // Fail at once while Redis is unreachable (503) instead of queueing writes that land later.
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
  if (!env.REDIS_SENTINELS) return new Redis(env.REDIS_URL as string, options);
  const sentinels = parseSentinels(env.REDIS_SENTINELS);
  return new Redis({ sentinels, name: env.REDIS_SENTINEL_NAME ?? 'mymaster', ...options });
}

async function openStore(): Promise<SharedStore> {
  if (env.REDIS_URL || env.REDIS_SENTINELS) {
    const client = redisClient();
    client.on('error', (error) => console.warn(`worker ${process.pid}: Redis: ${error.message}`));
    await new Promise((resolve) => client.once('ready', resolve));
    const minReplicas = env.REDIS_MIN_REPLICAS === undefined ? undefined : Number(env.REDIS_MIN_REPLICAS);
    const store = new RedisStore({ client, prefix: env.REDIS_PREFIX ?? 'mdpw:', minReplicas });
    const name = minReplicas ? `RedisStore (minReplicas ${minReplicas})` : 'RedisStore';
    return { store, name, close: async () => void (await client.quit()) };
  }
  if (env.DATABASE_URL) {
    const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10 });
    const store = new PostgresStore({ pool, table: env.PASSWORD_TABLE ?? 'instance_passwords' });
    // Every worker migrates at start: the advisory lock makes concurrent migrations safe.
    await store.migrate();
    return { store, name: 'PostgresStore', close: () => pool.end() };
  }
  throw new Error('Set REDIS_URL, REDIS_SENTINELS or DATABASE_URL.');
}

/** The owner, when the request carries `OWNER_TOKEN` as `X-Auth-Token` or `Authorization: Bearer`. */
function authenticateOwner(req: Request): { id: string } | null {
  const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  const token = Buffer.from(req.get('x-auth-token') ?? bearer ?? '');
  const matches = token.length === ownerToken.length && timingSafeEqual(token, ownerToken);
  return matches ? { id: 'owner' } : null;
}

async function serve(): Promise<void> {
  const shared = await openStore();
  const metrics = createPasswordMetrics();
  const service = new PasswordService({ store: shared.store, onEvent: metrics.onEvent });
  const app = express();
  app.get('/metrics', clusterMetricsHandler(metrics.registry));
  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      authenticate: signedProxyIdentity({ secret }),
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
    }),
  );
  // A real host checks here that the owner owns the server; this demo's one owner owns them all.
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter({
      service,
      authenticate: authenticateOwner,
      lookupInstance: ({ instanceId }) => (instanceId ? { id: instanceId } : null),
    }),
  );
  const server = app.listen(port, host, () => process.send?.({ ready: shared.name }));
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    server.close(() => void shared.close().finally(() => process.exit(0)));
    server.closeAllConnections();
  });
}

/**
 * Guest agents and metadata proxies open a connection per request. Under node:cluster's default
 * round-robin the primary accepts every connection and passes it to a worker over IPC, so the
 * primary, not the workers, sets the pace; with SCHED_NONE every worker accepts on the shared socket
 * and the kernel hands out the connections (bench/README.md, "Scaling", has the numbers). Node's own
 * NODE_CLUSTER_SCHED_POLICY=rr keeps round-robin. Elsewhere Node's default stands (SCHED_NONE on
 * Windows already).
 */
function scheduleAccepts(): void {
  if (process.platform === 'linux' && !env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
}

/**
 * The curl lines that play a guest (a signed POST, as the metadata proxy forwards it) and the owner
 * (read, clear) against this cluster, for an instance id of its own.
 */
function tryItLines(base: string): string {
  const instanceId = `example-${randomUUID()}`;
  const signature = createHmac('sha256', secret).update(instanceId).digest('hex');
  const guest = `-H 'X-Instance-ID: ${instanceId}' -H 'X-Tenant-ID: example-project' -H 'X-Instance-ID-Signature: ${signature}'`;
  const ownerHeader = env.OWNER_TOKEN === undefined ? "-H 'X-Auth-Token: demo-owner-token'" : '-H "X-Auth-Token: $OWNER_TOKEN"';
  const owner = `${base}/compute/v2.1/servers/${instanceId}/os-server-password ${ownerHeader}`;
  return [
    env.METADATA_PROXY_SECRET === undefined
      ? 'METADATA_PROXY_SECRET is not set: guests are checked against the public demo secret of examples/cluster.ts. ' +
        "Set it to your metadata proxies' metadata_proxy_shared_secret."
      : 'Guest requests must be signed with METADATA_PROXY_SECRET, as the metadata proxy signs them.',
    'Try it: a guest posts (256 random bytes stand in for its ciphertext), the owner reads and clears:',
    `  curl -si ${base}/openstack/latest/password ${guest} --data-binary "$(head -c 256 /dev/urandom | base64 -w0)"`,
    `  curl -s ${owner}`,
    `  curl -si -X DELETE ${owner}`,
  ].join('\n');
}

function startPrimary(): void {
  if (!env.REDIS_URL && !env.REDIS_SENTINELS && !env.DATABASE_URL) {
    console.error('Set REDIS_URL, REDIS_SENTINELS or DATABASE_URL: workers can share only a Redis or PostgreSQL store.');
    process.exit(1);
  }
  if (!Number.isInteger(workers) || workers < 1) {
    console.error(`WORKERS must be a positive integer; got ${env.WORKERS}.`);
    process.exit(1);
  }
  const ready = new Set<number>();
  let stopping = false;
  const fork = (): void => {
    const worker = cluster.fork();
    worker.on('message', (message: { ready?: string }) => {
      if (!message.ready) return;
      ready.add(worker.id);
      if (ready.size === workers) {
        console.log(`cluster ready: ${workers} workers on http://${host}:${port}, ${message.ready}`);
        console.log(tryItLines(`http://${host}:${port}`));
      }
    });
  };
  const stop = (code: number): void => {
    stopping = true;
    process.exitCode = code;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  cluster.on('exit', (worker, code, signal) => {
    const wasReady = ready.delete(worker.id);
    if (stopping) return;
    if (!wasReady) {
      console.error(`worker ${worker.process.pid} failed to start; stopping`);
      stop(1);
      return;
    }
    console.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  aggregateWorkerMetrics();
  scheduleAccepts();
  for (let i = 0; i < workers; i++) fork();
}

if (cluster.isPrimary) {
  startPrimary();
} else {
  serve().catch((error: unknown) => {
    console.error(`worker ${process.pid} could not start:`, error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
