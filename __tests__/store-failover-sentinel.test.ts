import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { RedisStore } from '../lib/stores/redis';
import { documentedSentinelOptions } from './helpers/documented-redis-settings';
import { waitUntilReady } from './helpers/store-backends';
import { describeCounts, proveFailover } from './helpers/store-failover-load';
import { startGuestHost, type GuestHost } from './helpers/store-fault-load';
import { startClusterServer, stopClusterServers } from './helpers/store-cluster-processes';
import { freePort, PrivateRedisServer } from './helpers/store-redis-server';
import { describeWithRedisServer } from './helpers/store-failover-binaries';

const run = promisify(execFile);
const NAME = 'mdpw';
/** The cluster example's default proxy secret. */
const EXAMPLE_SECRET = 'demo-only-secret-0123456789abcdef';
// No snapshots; a replica's full sync starts at once instead of after diskless sync's 5 s delay.
const REDIS_ARGS = ['--save', '', '--repl-diskless-sync-delay', '0'];
/** How long the primary runs cut off from its replica before it is killed. */
const LAG_MS = 300;
const SENTINEL_CONFIG = {
  ready: '+monitor master',
  text: (primaryPort: number) =>
    [
      `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${NAME} 1000`,
      `sentinel failover-timeout ${NAME} 5000`,
    ].join('\n'),
};

/** A primary, one replica and three sentinels (quorum 2), all private; `stop()` ends them by PID. */
class SentinelSet {
  private constructor(
    readonly primary: PrivateRedisServer,
    readonly replica: PrivateRedisServer,
    readonly sentinels: PrivateRedisServer[],
  ) {}

  static async start(): Promise<SentinelSet> {
    const servers: PrivateRedisServer[] = [];
    try {
      const primary = await PrivateRedisServer.start(REDIS_ARGS);
      servers.push(primary);
      const replica = await PrivateRedisServer.start([...REDIS_ARGS, '--replicaof', '127.0.0.1', String(primary.port)]);
      servers.push(replica);
      await waitForReplicas(primary.port, 1);
      const sentinels: PrivateRedisServer[] = [];
      for (let i = 0; i < 3; i++) {
        const sentinel = await PrivateRedisServer.start(['--sentinel'], {
          ready: SENTINEL_CONFIG.ready,
          text: SENTINEL_CONFIG.text(primary.port),
        });
        servers.push(sentinel);
        sentinels.push(sentinel);
      }
      return new SentinelSet(primary, replica, sentinels);
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      throw error;
    }
  }

  /** An ioredis Sentinel client with exactly the settings docs/stores.md recommends. */
  async client(): Promise<Redis> {
    const client = new Redis({
      sentinels: this.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      name: NAME,
      ...documentedSentinelOptions(),
    });
    client.on('error', () => {});
    await waitUntilReady(client);
    return client;
  }

  /**
   * The replica cut off for LAG_MS, then kill -9 of the primary; resolves once Sentinel promoted the replica and the old primary,
   * started again empty as the new primary's replica (as an operator brings it back), is in sync.
   */
  async failover(): Promise<void> {
    const { primary, replica } = this;
    // The replica's link drops and stays down (a network partition: the replica is paused so that
    // it cannot reconnect), then the primary dies: what it acknowledged meanwhile is only on it.
    const partitioned = replica.pid as number;
    process.kill(partitioned, 'SIGSTOP');
    await redisCli(primary.port, 'CLIENT', 'KILL', 'TYPE', 'replica');
    await sleep(LAG_MS);
    const started = Date.now();
    await primary.kill('SIGKILL');
    process.kill(partitioned, 'SIGCONT');
    // Sentinel ends the promoted replica's client connections, so each look is a connection of its own.
    while (!(await replicationInfo(replica.port)).includes('role:master')) await sleep(100);
    const promotedAfter = Date.now() - started;
    await primary.restart(['--replicaof', '127.0.0.1', String(replica.port)]);
    await waitForReplicas(replica.port, 1);
    console.log(`Sentinel promoted the replica ${promotedAfter} ms after the kill; its replica was back after ${Date.now() - started} ms.`);
  }

  async stop(): Promise<void> {
    await Promise.all([this.primary, this.replica, ...this.sentinels].map((server) => server.stop()));
  }
}

/** Runs one command with redis-cli on `port`. */
async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** `INFO replication` of the server on `port`, from a connection of its own; '' when it fails. */
async function replicationInfo(port: number): Promise<string> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.info('replication')) as string;
  } catch {
    return '';
  } finally {
    client.disconnect();
  }
}

/** Resolves once the server on `port` has `count` replicas online. */
async function waitForReplicas(port: number, count: number): Promise<void> {
  while (((await replicationInfo(port)).match(/^slave\d+:.*state=online/gm) ?? []).length < count) await sleep(100);
}

describeWithRedisServer('RedisStore behind Sentinel, the primary killed under load', () => {
  let set: SentinelSet | undefined;
  let client: Redis | undefined;
  let host: GuestHost | undefined;

  afterEach(async () => {
    await host?.close();
    client?.disconnect();
    await set?.stop();
    [host, client, set] = [undefined, undefined, undefined];
  });

  async function prove(minReplicas: number) {
    set = await SentinelSet.start();
    client = await set.client();
    host = await startGuestHost(new RedisStore({ client, minReplicas, timeoutMs: 1000 }));
    return proveFailover(host, {
      clients: 20,
      beforeFault: 150,
      afterFault: 50,
      failover: () => (set as SentinelSet).failover(),
      deadlineMs: 50_000,
    });
  }

  test('with minReplicas: 1, every password answered 200 is on the promoted replica; none lost', async () => {
    const { counts } = await prove(1);
    console.log(describeCounts('Sentinel failover, minReplicas 1', counts));
    expect(counts.lost).toBe(0);
    expect(counts.ok).toBeGreaterThan(200);
  }, 90_000);

  test('without minReplicas, the same failover (the loss is printed, not asserted)', async () => {
    const { counts } = await prove(0);
    console.log(describeCounts('Sentinel failover, no minReplicas', counts));
    expect(counts.ok).toBeGreaterThan(200);
  }, 90_000);

  test('the cluster example finds the primary through REDIS_SENTINELS and waits for REDIS_MIN_REPLICAS', async () => {
    set = await SentinelSet.start();
    const replicaSet = set;
    const example = await startClusterServer(await freePort(), {
      WORKERS: '1',
      REDIS_SENTINELS: replicaSet.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
      REDIS_SENTINEL_NAME: NAME,
      REDIS_MIN_REPLICAS: '1',
    });
    try {
      expect(example.output()).toContain('RedisStore (minReplicas 1)');
      const instanceId = `example-${Date.now()}`;
      const ciphertext = randomBytes(256).toString('base64');
      const answer = await fetch(`${example.baseUrl}/openstack/latest/password`, {
        method: 'POST',
        body: ciphertext,
        headers: {
          'X-Instance-ID': instanceId,
          'X-Tenant-ID': 'project-1',
          'X-Instance-ID-Signature': createHmac('sha256', EXAMPLE_SECRET).update(instanceId).digest('hex'),
        },
      });
      expect(answer.status).toBe(200);
      // Acknowledged only once the replica had it.
      await expect(redisCli(replicaSet.replica.port, 'GET', `mdpw:${instanceId}`)).resolves.toBe(`${ciphertext}\n`);
    } finally {
      await stopClusterServers([example]);
    }
  }, 60_000);
});
