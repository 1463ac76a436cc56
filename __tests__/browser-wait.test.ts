import { getServerPassword, ServerPasswordError } from '../lib/browser';
import { MemoryStore } from '../lib';
import { ciphertext } from './helpers/app';
import { OWNER_TOKEN, sleep, startWaitHost, type WaitHost } from './helpers/wait-host';

let host: WaitHost;
beforeAll(async () => {
  host = await startWaitHost(new MemoryStore(), { maxWait: 1 });
});
afterAll(() => host?.close());

const request = (serverId: string) => ({ url: `${host.baseUrl}/compute/v2.1`, serverId, token: OWNER_TOKEN });

describe('/browser getServerPassword({ wait })', () => {
  test('resolves the ciphertext as soon as the guest posts it, long-polling until then', async () => {
    const id = `vm-${Date.now()}-posted`;
    const value = ciphertext();
    const before = host.lookups();
    const waiting = getServerPassword({ ...request(id), wait: 30 });
    await sleep(2500);
    await host.service.setOnce(id, value);
    const posted = performance.now();
    await expect(waiting).resolves.toBe(value);
    expect(performance.now() - posted).toBeLessThan(1000);
    // The router holds each request at most maxWait (1 s): the request was repeated.
    expect(host.lookups() - before).toBeGreaterThanOrEqual(2);
  });

  test("resolves '' when none came within the wait", async () => {
    const started = performance.now();
    await expect(getServerPassword({ ...request(`vm-${Date.now()}-never`), wait: 2 })).resolves.toBe('');
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
  });

  test('each request may take timeoutMs plus its wait', async () => {
    // The router holds the request 1 s, longer than timeoutMs alone.
    await expect(getServerPassword({ ...request(`vm-${Date.now()}-slow`), wait: 1, timeoutMs: 300 })).resolves.toBe('');
  });

  test('a signal cancels the wait at once', async () => {
    const cancel = new AbortController();
    const waiting = getServerPassword({ ...request(`vm-${Date.now()}-cancelled`), wait: 30, signal: cancel.signal });
    await sleep(300);
    const cancelled = performance.now();
    cancel.abort();
    const error = await waiting.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ServerPasswordError);
    expect(error).toMatchObject({ status: 0, message: expect.stringContaining('cancelled') });
    expect(performance.now() - cancelled).toBeLessThan(500);
  });

  test.each([0, -1, 1.5, 86_401, '5'])('wait %p is refused before any request', async (wait) => {
    const before = host.lookups();
    const error = await getServerPassword({ ...request('vm-1'), wait: wait as number }).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ status: 0, message: expect.stringContaining('`wait` must be a whole number of seconds') });
    expect(host.lookups()).toBe(before);
  });
});
