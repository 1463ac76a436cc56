import request from 'supertest';
import { ciphertext, hostApp } from './helpers/app';

/** The headers python-novaclient (through keystoneauth) sends on every compute request. */
const NOVACLIENT_HEADERS = {
  'User-Agent': 'python-novaclient keystoneauth1/5.8.0 python-requests/2.32.3 CPython/3.12.3',
  Accept: 'application/json',
  'X-OpenStack-Nova-API-Version': '2.96',
  'OpenStack-API-Version': 'compute 2.96',
  'X-Auth-Token': 'member-p1',
};
const PATH = '/compute/v2.1/servers/p1-web/os-server-password';

/** `ServerManager.get_password` without a key: `body.get('password', '') if body else ''`. */
function novaclientPassword(body: unknown): string {
  return body && typeof body === 'object' ? ((body as { password?: string }).password ?? '') : '';
}

/**
 * `novaclient.exceptions.from_response`: the message is `body['message']` when present, else the
 * first key's `message`; the request id comes from `x-openstack-request-id`.
 */
function novaclientError(res: request.Response): { code: number; message: string; requestId: string } {
  const body = res.body as Record<string, { message?: string }> & { message?: string };
  const message = 'message' in body ? String(body.message) : String(body[Object.keys(body)[0]].message);
  return { code: res.status, message, requestId: res.headers['x-openstack-request-id'] };
}

describe('python-novaclient compatibility', () => {
  it('get_password reads the ciphertext posted by the guest', async () => {
    const { app } = hostApp();
    const value = ciphertext();
    await request(app).post('/openstack/2013-04-04/password').set('X-Test-Instance', 'p1-web').send(value);
    const res = await request(app).get(PATH).set(NOVACLIENT_HEADERS);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(novaclientPassword(res.body)).toBe(value);
  });

  it('get_password reads an empty string when nothing is set', async () => {
    const { app } = hostApp();
    expect(novaclientPassword((await request(app).get(PATH).set(NOVACLIENT_HEADERS)).body)).toBe('');
  });

  it('clear_password gets 204 with no body to parse', async () => {
    const { app } = hostApp();
    const res = await request(app).delete(PATH).set(NOVACLIENT_HEADERS);
    expect(res.status).toBe(204);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.text).toBe('');
  });

  it('error answers give novaclient a message and a request id to show', async () => {
    const { app } = hostApp();
    const notFound = await request(app)
      .get('/compute/v2.1/servers/p2-db/os-server-password')
      .set(NOVACLIENT_HEADERS)
      .set('X-OpenStack-Request-ID', 'req-2f1e0d9c-8b7a-4654-a321-0fedcba98765');
    expect(novaclientError(notFound)).toEqual({
      code: 404,
      message: 'No such instance.',
      requestId: 'req-2f1e0d9c-8b7a-4654-a321-0fedcba98765',
    });
    const forbidden = await request(app).delete(PATH).set({ ...NOVACLIENT_HEADERS, 'X-Auth-Token': 'reader-p1' });
    expect(novaclientError(forbidden)).toEqual(expect.objectContaining({ code: 403, message: 'Only project members may clear a password.' }));
    const unauthenticated = await request(app).get(PATH).set({ ...NOVACLIENT_HEADERS, 'X-Auth-Token': 'expired' });
    expect(novaclientError(unauthenticated)).toEqual(expect.objectContaining({ code: 401, message: 'Authentication is required.' }));
  });

  it("errorBody answers in Nova's own error shape, which novaclient reads the same way", async () => {
    const novaFaults: Record<number, string> = { 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound' };
    const { app } = hostApp({
      errorBody: ({ status, message }) => ({ [novaFaults[status] ?? 'computeFault']: { code: status, message } }),
    });
    const notFound = await request(app).get('/compute/v2.1/servers/p2-db/os-server-password').set(NOVACLIENT_HEADERS);
    expect(notFound.body).toEqual({ itemNotFound: { code: 404, message: 'No such instance.' } });
    expect(novaclientError(notFound)).toEqual(expect.objectContaining({ code: 404, message: 'No such instance.' }));
    const forbidden = await request(app).delete(PATH).set({ ...NOVACLIENT_HEADERS, 'X-Auth-Token': 'reader-p1' });
    expect(forbidden.body).toEqual({ forbidden: { code: 403, message: 'Only project members may clear a password.' } });
    const badId = await request(app).get('/compute/v2.1/servers/%2e%2e/os-server-password').set(NOVACLIENT_HEADERS);
    expect(novaclientError(badId)).toEqual(expect.objectContaining({ code: 400, message: expect.stringMatching(/^The server id must be/) }));
  });

  it('falls back to the standard error body when errorBody throws or returns no object, and logs it', async () => {
    for (const errorBody of [
      () => {
        throw new Error('shape bug');
      },
      () => 'itemNotFound' as never,
      async () => ({ late: true }),
    ]) {
      const { app, logger } = hostApp({ errorBody });
      const res = await request(app).get('/compute/v2.1/servers/p2-db/os-server-password').set(NOVACLIENT_HEADERS);
      expect(res.body).toEqual({ error: { code: 'INSTANCE_NOT_FOUND', message: 'No such instance.' } });
      expect(String(logger.errors[0][0])).toMatch(/errorBody/);
    }
  });
});
