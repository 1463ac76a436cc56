import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import {
  createPasswordRouter,
  PasswordService,
  signedProxyIdentity,
  type PasswordEvent,
  type SignedProxyIdentityOptions,
} from '../lib';
import { ciphertext } from './helpers/app';
import { listen, rawRequest } from './helpers/raw-http';

const SECRET = 'b3f1c0de5e9a4c7d8e2f1a0b9c8d7e6f';
const sign = (instanceId: string, secret = SECRET) => createHmac('sha256', secret).update(instanceId).digest('hex');

function app(secret: SignedProxyIdentityOptions['secret'] = SECRET) {
  const server = express();
  server.use(
    '/openstack',
    createPasswordRouter({
      authenticate: signedProxyIdentity({ secret }),
      lookupInstance: ({ principal }) => (principal.projectId === 'p1' ? { id: principal.instanceId } : null),
      logger: { warn: () => {}, error: () => {} },
    }),
  );
  return server;
}

describe('signedProxyIdentity', () => {
  it('accepts a correctly signed request and hands instance and project to lookupInstance', async () => {
    const res = await request(app())
      .post('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') })
      .send(ciphertext());
    expect(res.status).toBe(200);
    const other = await request(app())
      .get('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p2', 'X-Instance-ID-Signature': sign('i-1') });
    expect(other.status).toBe(404);
  });

  it.each([
    ['X-Instance-ID', { 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') }],
    ['X-Tenant-ID', { 'X-Instance-ID': 'i-1', 'X-Instance-ID-Signature': sign('i-1') }],
    ['X-Instance-ID-Signature', { 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1' }],
  ])('answers 400 BAD_REQUEST naming a missing %s', async (name, headers) => {
    const res = await request(app()).post('/openstack/latest/password').set(headers).send(ciphertext());
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'BAD_REQUEST', message: `The ${name} header is missing.` });
  });

  it.each(['X-Instance-ID', 'X-Tenant-ID', 'X-Instance-ID-Signature'])(
    'answers 400 BAD_REQUEST naming a repeated %s, storing nothing',
    async (name) => {
      const server = app();
      const headers: Record<string, string> = { 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') };
      const req = request(server).post('/openstack/latest/password');
      for (const [key, value] of Object.entries(headers)) req.set(key, (key === name ? [value, value] : value) as string);
      const res = await req.send(ciphertext());
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(`The ${name} header is repeated.`);
      const check = await request(server)
        .get('/openstack/latest/password')
        .set(headers);
      expect(check.text).toBe('');
    },
  );

  it.each([
    ['another instance', sign('i-2')],
    ['another secret', sign('i-1', 'another-secret-of-length')],
    ['a short value', 'abc'],
    ['a long value', `${sign('i-1')}00`],
    ['upper case', sign('i-1').toUpperCase()],
  ])('answers 403 FORBIDDEN to a signature of %s', async (_name, signature) => {
    const res = await request(app())
      .post('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': signature })
      .send(ciphertext());
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'FORBIDDEN', message: 'Invalid proxy request signature.' });
  });

  it('refuses a secret shorter than 16 characters with a hint', () => {
    expect(() => signedProxyIdentity({ secret: '' })).toThrow(/openssl rand -hex 32/);
    expect(() => signedProxyIdentity({ secret: 'short' })).toThrow(/at least 16/);
    expect(() => signedProxyIdentity({} as { secret: string })).toThrow(/secret/);
    expect(() => signedProxyIdentity({ secret: SECRET, secrte: 'x' } as { secret: string })).toThrow(/Did you mean `secret`/);
  });
});

describe('signedProxyIdentity with several secrets (rotation)', () => {
  const NEXT = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const OLDEST = '0123456789abcdef0123456789abcdef';
  const headers = (secret: string, instanceId = 'i-1') => ({
    'X-Instance-ID': instanceId,
    'X-Tenant-ID': 'p1',
    'X-Instance-ID-Signature': sign(instanceId, secret),
  });
  /** The principal the hook resolves for a request with `headers`. */
  const principalFor = async (secret: SignedProxyIdentityOptions['secret'], requestHeaders: Record<string, string>) => {
    const authenticate = signedProxyIdentity({ secret });
    const captured: unknown[] = [];
    const server = express();
    server.get('/whoami', async (req, res) => {
      try {
        captured.push(await authenticate(req));
        res.end();
      } catch (error) {
        res.status((error as { status: number }).status).end();
      }
    });
    const res = await request(server).get('/whoami').set(requestHeaders);
    return { status: res.status, principal: captured[0] };
  };

  it.each([
    ['the first', NEXT, 0],
    ['the second', SECRET, 1],
  ])('with two secrets, passes a request signed with %s and says which', async (_which, secret, index) => {
    expect(await principalFor([NEXT, SECRET], headers(secret))).toEqual({
      status: 200,
      principal: { instanceId: 'i-1', projectId: 'p1', secretIndex: index },
    });
  });

  it.each([
    [NEXT, 0],
    [SECRET, 1],
    [OLDEST, 2],
  ])('with three secrets, passes a request signed with any, secretIndex %#', async (secret, index) => {
    const { principal } = await principalFor([NEXT, SECRET, OLDEST], headers(secret, 'i-3'));
    expect(principal).toEqual({ instanceId: 'i-3', projectId: 'p1', secretIndex: index });
  });

  it('gives secretIndex 0 for a single secret', async () => {
    expect((await principalFor(SECRET, headers(SECRET))).principal).toMatchObject({ secretIndex: 0 });
  });

  it('stores a POST signed with either secret through the router, and refuses an unlisted one', async () => {
    const server = app([NEXT, SECRET]);
    await request(server).post('/openstack/latest/password').set(headers(NEXT)).send(ciphertext()).expect(200);
    const posted = ciphertext();
    await request(server).post('/openstack/latest/password').set(headers(SECRET, 'i-2')).send(posted).expect(200);
    const read = await request(server).get('/openstack/latest/password').set(headers(NEXT, 'i-2')).expect(200);
    expect(read.text).toBe(posted);

    const refused = await request(server).post('/openstack/latest/password').set(headers(OLDEST, 'i-9')).send(ciphertext());
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({ code: 'FORBIDDEN', message: 'Invalid proxy request signature.' });
    expect((await request(server).get('/openstack/latest/password').set(headers(NEXT, 'i-9'))).text).toBe('');
  });

  it.each([
    ['an unlisted secret', sign('i-1', OLDEST)],
    ['another instance', sign('i-2', NEXT)],
    ['a short value', sign('i-1', NEXT).slice(0, 63)],
    ['a long value', `${sign('i-1', SECRET)}0`],
  ])('answers 403 FORBIDDEN to a signature of %s', async (_name, signature) => {
    const res = await request(app([NEXT, SECRET]))
      .get('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': signature });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('refuses an empty list, and a short or non-string secret in the list, naming it', () => {
    expect(() => signedProxyIdentity({ secret: [] })).toThrow(expect.objectContaining({ name: 'OptionsError', code: 'ERR_INVALID_OPTION' }));
    expect(() => signedProxyIdentity({ secret: [] })).toThrow(/at least one secret.*openssl rand -hex 32/);
    expect(() => signedProxyIdentity({ secret: [NEXT, 'short'] })).toThrow(/`secret\[1\]` must be a string of at least 16 characters.*openssl rand -hex 32/);
    expect(() => signedProxyIdentity({ secret: [NEXT, 42] as unknown as string[] })).toThrow(/`secret\[1\]`/);
  });
});

describe('identity first: a caller nobody authenticated learns nothing from its body headers', () => {
  /** The guest router behind signedProxyIdentity, with its events and a raw socket to send any framing. */
  async function guarded() {
    const events: PasswordEvent[] = [];
    const service = new PasswordService({ onEvent: (event) => events.push(event), logger: { warn: () => {}, error: () => {} } });
    const server = express();
    server.use(
      '/openstack',
      createPasswordRouter({
        service,
        authenticate: signedProxyIdentity({ secret: SECRET }),
        lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
        logger: { warn: () => {}, error: () => {} },
      }),
    );
    return { events, service, listening: await listen(server) };
  }

  const BODY_HEADERS: Array<[string, string[]]> = [
    ['a gzip Content-Encoding', ['Content-Encoding: gzip', 'Content-Length: 4']],
    ['an oversized Content-Length', ['Content-Length: 1000000']],
    ['both', ['Content-Encoding: br', 'Content-Length: 1000000']],
  ];
  const IDENTITIES: Array<[string, string[], number, string]> = [
    ['a forged signature', ['X-Instance-ID: i-1', 'X-Tenant-ID: p1', `X-Instance-ID-Signature: ${'0'.repeat(64)}`], 403, 'FORBIDDEN'],
    ['a missing signature header', ['X-Instance-ID: i-1', 'X-Tenant-ID: p1'], 400, 'BAD_REQUEST'],
  ];

  describe.each(IDENTITIES)('%s', (_, identity, status, code) => {
    it.each(BODY_HEADERS)('with %s: the identity answer and only access.denied', async (__, bodyHeaders) => {
      const { events, service, listening } = await guarded();
      try {
        const head = ['POST /openstack/latest/password HTTP/1.1', 'Host: 127.0.0.1', ...identity, ...bodyHeaders].join('\r\n');
        const answer = await rawRequest(listening.port, [`${head}\r\n\r\n`, 'AAAA']);
        expect(answer.status).toBe(status);
        expect(JSON.parse(answer.body).error.code).toBe(code);
        expect(events.map((event) => [event.type, event.reason])).toEqual([['access.denied', code]]);
        expect(await service.peek('i-1')).toBeUndefined();
      } finally {
        await listening.close();
      }
    });
  });

  it('checks the body headers once the caller is known: 415 and 413 for a signed request', async () => {
    const { events, listening } = await guarded();
    try {
      const signed = ['X-Instance-ID: i-1', 'X-Tenant-ID: p1', `X-Instance-ID-Signature: ${sign('i-1')}`];
      for (const [bodyHeaders, status, code] of [
        [['Content-Encoding: gzip', 'Content-Length: 4'], 415, 'UNSUPPORTED_ENCODING'],
        [['Content-Length: 1000000'], 413, 'PAYLOAD_TOO_LARGE'],
      ] as const) {
        const head = ['POST /openstack/latest/password HTTP/1.1', 'Host: 127.0.0.1', ...signed, ...bodyHeaders].join('\r\n');
        const answer = await rawRequest(listening.port, [`${head}\r\n\r\n`, 'AAAA']);
        expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([status, code]);
      }
      expect(events.map((event) => [event.type, event.reason])).toEqual([
        ['password.rejected', 'UNSUPPORTED_ENCODING'],
        ['password.rejected', 'PAYLOAD_TOO_LARGE'],
      ]);
    } finally {
      await listening.close();
    }
  });
});
