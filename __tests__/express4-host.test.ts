import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHost, type Host } from '../examples/express4-host';
import type { PasswordEvent } from '../lib/types';
import { expectAdopterFlow, hostServices, makeHostFixture, type HostFixture } from './helpers/express4-host-flow';
import { REDIS_URL, describeWithRedis } from './helpers/services';
import { connectRedis, deleteKeys, uniqueName } from './helpers/store-backends';

interface Started {
  readonly url: string;
  readonly host: Host;
  readonly fixture: HostFixture;
  readonly events: PasswordEvent[];
  readonly logs: string[];
  stop(): Promise<void>;
}

async function start(redis?: { url: string; prefix: string }): Promise<Started> {
  const fixture = makeHostFixture();
  const events: PasswordEvent[] = [];
  const logs: string[] = [];
  const host = await createHost({
    ...hostServices(fixture),
    redisUrl: redis?.url,
    redisPrefix: redis?.prefix,
    onEvent: (event) => events.push(event),
    log: (line) => logs.push(line),
  });
  const server: Server = await new Promise((resolve) => {
    const listening = host.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    host,
    fixture,
    events,
    logs,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await host.close();
    },
  };
}

describe('examples/express4-host on the embedded store', () => {
  let running: Started;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(() => running?.stop());

  test('serves the host metadata routes, the guest and owner flow, and rebuild', async () => {
    await expectAdopterFlow(running.url, running.fixture, () => running.events);
  });

  test("the request logger saw the password route's requests, and no ciphertext", () => {
    expect(running.logs).toContainEqual(expect.stringMatching(/^POST \/openstack\/latest\/password 200 \d+ms$/));
    expect(running.logs).toContainEqual(expect.stringMatching(/^POST \/openstack\/latest\/password 409 \d+ms$/));
    expect(running.logs.join('\n')).not.toMatch(/[A-Za-z0-9+/]{100,}/);
  });

  test('the host error handler answers unknown actions and the host routes in its own shape', async () => {
    const [server] = running.fixture.servers;
    const action = await fetch(`${running.url}/compute/v2.1/servers/${server.id}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': 'token-alice', 'Content-Type': 'application/json' },
      body: JSON.stringify({ reboot: { type: 'SOFT' } }),
    });
    expect(action.status).toBe(400);
    expect(await action.json()).toEqual({ badRequest: { code: 400, message: 'Unsupported action.' } });
    const unsigned = await fetch(`${running.url}/openstack/latest/meta_data.json`);
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toEqual({ badRequest: { code: 400, message: expect.stringContaining('X-Instance-ID') } });
    const malformedJson = await fetch(`${running.url}/compute/v2.1/servers/${server.id}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': 'token-alice', 'Content-Type': 'application/json' },
      body: '{"rebuild":',
    });
    expect(malformedJson.status).toBe(400);
  });
});

test('examples/express4-host refuses to start when REDIS_URL names a Redis that does not answer', async () => {
  const services = hostServices(makeHostFixture());
  await expect(createHost({ ...services, redisUrl: 'redis://127.0.0.1:1' })).rejects.toThrow(
    /^cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
  );
});

describeWithRedis('examples/express4-host on RedisStore', () => {
  const prefix = `mdpw-test:${uniqueName('express4-host')}:`;
  let running: Started;
  beforeAll(async () => {
    running = await start({ url: REDIS_URL, prefix });
  });
  afterAll(async () => {
    await running?.stop();
    const client = await connectRedis();
    await deleteKeys(client, prefix);
    await client.quit();
  });

  test('serves the same flow with the passwords in Redis under its prefix', async () => {
    await expectAdopterFlow(running.url, running.fixture, () => running.events);
    const client = await connectRedis();
    try {
      const [server] = running.fixture.servers;
      expect(await client.get(`${prefix}${server.id}`)).toBe(await running.host.service.get(server.id));
    } finally {
      await client.quit();
    }
  });
});
