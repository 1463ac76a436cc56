import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { RedisStore } from '../lib/stores/redis';
import { RECOMMENDED_REDIS_OPTIONS } from './helpers/store-backends';
import { describeWithRedisServer } from './helpers/store-failover-binaries';
import { describeCounts, proveFailover } from './helpers/store-failover-load';
import { startGuestHost, type GuestHost } from './helpers/store-fault-load';
import { freePort, PrivateRedisServer } from './helpers/store-redis-server';

const run = promisify(execFile);
const PREFIX = 'mdpw:';

/** One line of `CLUSTER NODES`. */
interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'slave';
  readonly failed: boolean;
  readonly masterId: string;
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** `CLUSTER NODES` as seen from the node on `port` (a connection of its own); [] when it fails. */
async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const text = (await client.call('CLUSTER', 'NODES')) as string;
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
        return {
          id,
          port: Number(address.split('@')[0].split(':')[1]),
          role: flags.includes('master') ? 'master' : 'slave',
          failed: /fail|noaddr/.test(flags),
          masterId,
          slots: slots.filter((range) => !range.startsWith('[')).map((range) => {
            const [from, to = from] = range.split('-').map(Number);
            return [from, to] as const;
          }),
        };
      });
  } catch {
    return [];
  } finally {
    client.disconnect();
  }
}

/** Three masters and three replicas, all private; `stop()` ends them by PID. */
class ClusterSet {
  private constructor(readonly servers: PrivateRedisServer[]) {}

  static async start(): Promise<ClusterSet> {
    const servers: PrivateRedisServer[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        servers.push(
          await PrivateRedisServer.start([
            '--cluster-enabled', 'yes',
            '--cluster-port', String(await freePort()),
            '--cluster-node-timeout', '1000',
            '--cluster-announce-ip', '127.0.0.1',
            '--save', '',
            '--repl-diskless-sync-delay', '0',
          ]),
        );
      }
      const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']);
      const set = new ClusterSet(servers);
      await set.waitUntil((nodes) => nodes.filter((node) => node.role === 'slave' && !node.failed).length === 3);
      return set;
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      throw error;
    }
  }

  server(port: number): PrivateRedisServer {
    return this.servers.find((server) => server.port === port) as PrivateRedisServer;
  }

  /** Resolves once every running node reports `cluster_state:ok` and its view passes `check`. */
  async waitUntil(check: (nodes: ClusterNode[]) => boolean): Promise<void> {
    for (;;) {
      const running = this.servers.filter((server) => server.pid !== undefined);
      const views = await Promise.all(running.map((server) => clusterNodes(server.port)));
      const states = await Promise.all(
        running.map((server) => run('redis-cli', ['-p', String(server.port), 'cluster', 'info']).then(({ stdout }) => stdout, () => '')),
      );
      if (states.every((state) => state.includes('cluster_state:ok')) && views.every((view) => view.length === 6 && check(view))) return;
      await sleep(100);
    }
  }

  /** The current masters (with their slots) and the replica of each. */
  async topology(): Promise<Array<{ master: ClusterNode; replica: ClusterNode | undefined }>> {
    const nodes = await clusterNodes(this.servers.find((server) => server.pid !== undefined)?.port ?? 0);
    return nodes
      .filter((node) => node.role === 'master' && !node.failed)
      .map((master) => ({ master, replica: nodes.find((node) => node.masterId === master.id && !node.failed) }));
  }

  async client(): Promise<Cluster> {
    const cluster = new Cluster(
      this.servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
      { enableOfflineQueue: false, redisOptions: RECOMMENDED_REDIS_OPTIONS, slotsRefreshInterval: 1000 },
    );
    cluster.on('error', () => {});
    await new Promise((resolve) => cluster.once('ready', resolve));
    return cluster;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}

/** The slot of `key`, by Redis itself. */
async function keySlot(port: number, key: string): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'keyslot', key]);
  return Number(stdout.trim());
}

describeWithRedisServer('RedisStore on Redis Cluster (3 masters, 3 replicas)', () => {
  let set: ClusterSet | undefined;
  let cluster: Cluster | undefined;
  let host: GuestHost | undefined;

  beforeAll(async () => {
    set = await ClusterSet.start();
    cluster = await set.client();
  }, 60_000);
  afterAll(async () => {
    await host?.close();
    cluster?.disconnect();
    await set?.stop();
  });

  test('the WAIT goes to the node that owns the key: a master without its replica refuses, the others confirm', async () => {
    const clusterSet = set as ClusterSet;
    const store = new RedisStore({ client: cluster as Cluster, minReplicas: 1, timeoutMs: 300 });
    const [alone, ...others] = await clusterSet.topology();
    const replica = clusterSet.server((alone.replica as ClusterNode).port);
    await replica.kill('SIGKILL');
    try {
      // Once the cluster has marked it failed, the client's refreshed view leaves it out.
      await clusterSet.waitUntil((nodes) => nodes.some((node) => node.port === replica.port && node.failed));
      while ((cluster as Cluster).nodes('all').length > 5) await sleep(100);
      const owned = (slot: number, master: ClusterNode) => master.slots.some(([from, to]) => slot >= from && slot <= to);
      const ids = Array.from({ length: 40 }, () => randomUUID());
      const slots = await Promise.all(ids.map((id) => keySlot(alone.master.port, PREFIX + id)));
      for (const [index, slot] of slots.entries()) {
        // A healthy master may be slow on this busy machine: it gets three tries, the lone one one.
        let result = 'refused';
        for (let attempt = 0; attempt < 3 && result === 'refused'; attempt++) {
          result = await store.set(ids[index], 'value').then(() => 'stored', () => 'refused');
          if (owned(slot, alone.master)) break;
        }
        expect({ slot, result }).toEqual({ slot, result: owned(slot, alone.master) ? 'refused' : 'stored' });
      }
      expect(slots.filter((slot) => owned(slot, alone.master)).length).toBeGreaterThan(3);
      expect(slots.filter((slot) => others.some(({ master }) => owned(slot, master))).length).toBeGreaterThan(10);
    } finally {
      await replica.restart();
      await clusterSet.waitUntil((nodes) => nodes.filter((node) => node.role === 'slave' && !node.failed).length === 3);
    }
  }, 60_000);

  test('with minReplicas: 1, kill -9 of a master under POST load loses no password answered 200', async () => {
    const clusterSet = set as ClusterSet;
    host = await startGuestHost(new RedisStore({ client: cluster as Cluster, minReplicas: 1, timeoutMs: 1000 }));
    const [victim] = await clusterSet.topology();
    const { counts, postings } = await proveFailover(host, {
      clients: 20,
      beforeFault: 150,
      afterFault: 50,
      deadlineMs: 50_000,
      failover: async () => {
        const started = Date.now();
        const killed = clusterSet.server(victim.master.port);
        await killed.kill('SIGKILL');
        const promoted = (victim.replica as ClusterNode).id;
        await clusterSet.waitUntil((nodes) => nodes.some((node) => node.id === promoted && node.role === 'master'));
        const promotedAfter = Date.now() - started;
        // Back as an operator brings it: the same node, empty, which rejoins as the new master's replica.
        await killed.restart();
        await clusterSet.waitUntil((nodes) => nodes.filter((node) => node.role === 'slave' && !node.failed).length === 3);
        console.log(`Cluster promoted the replica ${promotedAfter} ms after the kill; the old master rejoined after ${Date.now() - started} ms.`);
      },
    });
    console.log(describeCounts('Cluster failover, minReplicas 1', counts));
    expect(counts.lost).toBe(0);
    // Set-once held for ids in every master's slots, the killed one's included.
    const slots = await Promise.all(postings.map(({ instanceId }) => keySlot(victim.replica?.port ?? 0, PREFIX + instanceId)));
    const owners = await clusterSet.topology();
    for (const { master } of owners) {
      expect(slots.some((slot) => master.slots.some(([from, to]) => slot >= from && slot <= to))).toBe(true);
    }
    expect(counts.ok).toBeGreaterThan(200);
  }, 90_000);
});
