import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { Pool } from 'pg';
import { connectRedis, deleteKeys, uniqueName } from './helpers/store-backends';
import { startClusterServer, stopClusterServers, type ClusterServer } from './helpers/store-cluster-processes';
import { freePort } from './helpers/store-redis-server';
import { DATABASE_URL, describeWithPostgres, describeWithRedis, REDIS_URL } from './helpers/services';

const SECRET = 'cluster-race-proxy-secret';
const OWNER_TOKEN = 'cluster-race-owner-token';
const PROCESSES = 4;
const POSTS_PER_INSTANCE = 200;
const INSTANCES = 20;

interface Backend {
  readonly name: string;
  readonly describe: jest.Describe;
  /** The store's environment for the example, and how to remove what the run stored. */
  readonly prepare: () => { env: Record<string, string>; cleanup: () => Promise<void> };
}

const backends: Backend[] = [
  {
    name: 'RedisStore',
    describe: describeWithRedis,
    prepare: () => {
      const prefix = `mdpw-test:${uniqueName('cluster')}:`;
      return {
        env: { REDIS_URL, REDIS_PREFIX: prefix },
        cleanup: async () => {
          const client = await connectRedis();
          await deleteKeys(client, prefix);
          await client.quit();
        },
      };
    },
  },
  {
    name: 'PostgresStore',
    describe: describeWithPostgres,
    prepare: () => {
      const table = `mdpw_${uniqueName('cluster')}`;
      return {
        env: { DATABASE_URL, PASSWORD_TABLE: table },
        cleanup: async () => {
          const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
          await pool.query(`DROP TABLE IF EXISTS "${table}"`);
          await pool.end();
        },
      };
    },
  },
];

function guestHeaders(instanceId: string): Record<string, string> {
  const signature = createHmac('sha256', SECRET).update(instanceId).digest('hex');
  return { 'X-Instance-ID': instanceId, 'X-Tenant-ID': 'project-1', 'X-Instance-ID-Signature': signature };
}

// node:http sends the 8,000 POSTs of this suite in about half the time fetch takes.
const agent = new Agent({ keepAlive: true, maxSockets: 100 });
afterAll(() => agent.destroy());

function post(server: ClusterServer, instanceId: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.baseUrl}/openstack/latest/password`, {
      method: 'POST',
      agent,
      headers: { ...guestHeaders(instanceId), 'Content-Length': Buffer.byteLength(body) },
    });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function guestRead(server: ClusterServer, instanceId: string): Promise<string> {
  const response = await fetch(`${server.baseUrl}/openstack/latest/password`, { headers: guestHeaders(instanceId) });
  expect(response.status).toBe(200);
  return response.text();
}

async function owner(server: ClusterServer, instanceId: string, method: 'GET' | 'DELETE'): Promise<Response> {
  return fetch(`${server.baseUrl}/compute/v2.1/servers/${instanceId}/os-server-password`, {
    method,
    headers: { 'X-Auth-Token': OWNER_TOKEN },
  });
}

describe.each(backends)('examples/cluster.ts on $name', (backend) => {
  backend.describe(`${PROCESSES} server processes on one store`, () => {
    const servers: ClusterServer[] = [];
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const prepared = backend.prepare();
      cleanup = prepared.cleanup;
      const env = { ...prepared.env, WORKERS: '1', METADATA_PROXY_SECRET: SECRET, OWNER_TOKEN };
      const ports = await Promise.all(Array.from({ length: PROCESSES }, freePort));
      servers.push(...(await Promise.all(ports.map((port) => startClusterServer(port, env)))));
    }, 60_000);
    afterAll(async () => {
      await stopClusterServers(servers);
      await cleanup?.();
    }, 30_000);

    test(`${POSTS_PER_INSTANCE} concurrent POSTs per instance: one 200, the rest 409, and every process reads the winner`, async () => {
      for (let round = 0; round < INSTANCES; round++) {
        const instanceId = randomUUID();
        const bodies = Array.from({ length: POSTS_PER_INSTANCE }, () => randomBytes(256).toString('base64'));
        const statuses = await Promise.all(
          bodies.map((body, index) => post(servers[index % PROCESSES], instanceId, body)),
        );
        const counts: Record<number, number> = {};
        for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
        expect(counts).toEqual({ 200: 1, 409: POSTS_PER_INSTANCE - 1 });
        const winners = bodies.filter((_, index) => statuses[index] === 200);
        for (const server of servers) expect(await guestRead(server, instanceId)).toBe(winners[0]);
        const read = await owner(servers[round % PROCESSES], instanceId, 'GET');
        expect(await read.json()).toEqual({ password: winners[0] });
      }
    }, 110_000);

    test('prints curl lines that post as a guest, then read and clear as the owner', async () => {
      const curlLines = servers[0]
        .output()
        .split('\n')
        .filter((line) => line.startsWith('  curl '))
        .map((line) => line.trim());
      expect(curlLines).toHaveLength(3);
      const run = (line: string) =>
        execFileSync('bash', ['-c', line], { env: { ...process.env, OWNER_TOKEN }, encoding: 'utf8', timeout: 10_000 });
      expect(run(curlLines[0])).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(run(curlLines[1]))).toEqual({ password: expect.stringMatching(/^[A-Za-z0-9+/]{342}==$/) });
      expect(run(curlLines[2])).toMatch(/^HTTP\/1\.1 204 /);
      expect(servers[0].output()).toContain('Guest requests must be signed with METADATA_PROXY_SECRET');
    });

    test("an owner's clear on one process lets the guest post again through another", async () => {
      const instanceId = randomUUID();
      const [first, second] = [randomBytes(256).toString('base64'), randomBytes(256).toString('base64')];
      expect(await post(servers[0], instanceId, first)).toBe(200);
      expect(await post(servers[1], instanceId, second)).toBe(409);
      expect((await owner(servers[2], instanceId, 'DELETE')).status).toBe(204);
      expect(await post(servers[3], instanceId, second)).toBe(200);
      for (const server of servers) expect(await guestRead(server, instanceId)).toBe(second);
    });
  });
});
