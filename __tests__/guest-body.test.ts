import type { Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import { exceptPasswordRoutes } from '../lib';
import { ciphertext, guestApp } from './helpers/app';
import { listen, rawRequest } from './helpers/raw-http';

const PATH = '/openstack/latest/password';

function head(lines: string[]): string {
  return `${[`POST ${PATH} HTTP/1.1`, 'Host: 127.0.0.1', 'X-Test-Instance: i-1', ...lines].join('\r\n')}\r\n\r\n`;
}

function chunk(data: string | Buffer): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

async function withServer<T>(app: express.Express, use: (port: number, server: Server) => Promise<T>): Promise<T> {
  const listening = await listen(app);
  try {
    return await use(listening.port, listening.server);
  } finally {
    await listening.close();
  }
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

describe('guest router: reading the POST body', () => {
  it('stores a chunked body within the limit', async () => {
    const { app, service } = guestApp();
    const value = ciphertext();
    const answer = await withServer(app, (port) =>
      rawRequest(port, [head(['Transfer-Encoding: chunked']), chunk(value.slice(0, 100)), chunk(value.slice(100)), '0\r\n\r\n']),
    );
    expect(answer.status).toBe(200);
    expect(await service.get('i-1')).toBe(value);
  });

  it('answers 413 with Connection: close as soon as a chunked body passes maxBytes, storing nothing', async () => {
    const { app, service, events } = guestApp();
    // 2 KiB in, the limit (1020) is passed; the client would go on for 1 MiB.
    const parts = [head(['Transfer-Encoding: chunked']), ...Array.from({ length: 1024 }, () => chunk('A'.repeat(1024)))];
    const answer = await withServer(app, (port) => rawRequest(port, parts, 1));
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(answer.closed).toBe(true);
    expect(JSON.parse(answer.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'PAYLOAD_TOO_LARGE' })]);
  });

  it('answers 413 from a Content-Length over the limit before reading, and closes', async () => {
    const { app, service } = guestApp();
    const answer = await withServer(app, (port) => rawRequest(port, [head(['Content-Length: 1000000']), 'AAAA']));
    expect(answer.status).toBe(413);
    expect(answer.closed).toBe(true);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it('does not store a body shorter than its Content-Length', async () => {
    const { app, service } = guestApp({ bodyTimeout: 300 });
    const value = ciphertext();
    // Claims 344 bytes, sends 300 and waits: the body never completes.
    const answer = await withServer(app, (port) =>
      rawRequest(port, [head([`Content-Length: ${value.length}`]), value.slice(0, 300)]),
    );
    expect(answer.status).toBe(408);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it('reads only Content-Length bytes of a longer body, refusing the truncated value', async () => {
    const { app, service } = guestApp();
    const value = ciphertext();
    // The router refuses the 62-byte prefix; Node's parser refuses the rest as a malformed request.
    const answer = await withServer(app, (port) => rawRequest(port, [head(['Content-Length: 62']), value]));
    expect(answer.status).toBe(400);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it('answers 400 INVALID_PASSWORD to invalid UTF-8 instead of replacing it', async () => {
    for (const format of ['base64', 'text'] as const) {
      const { app, service } = guestApp({ serviceOptions: { format } });
      const body = Buffer.concat([Buffer.from('pass'), Buffer.from([0xc3, 0x28, 0xff])]);
      const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code: 'INVALID_PASSWORD', message: 'The body is not valid UTF-8.' });
      expect(await service.get('i-1')).toBeUndefined();
    }
  });

  it('answers 408 REQUEST_TIMEOUT to a body slower than bodyTimeout and frees the socket', async () => {
    const { app, service, events } = guestApp({ bodyTimeout: 200 });
    const value = ciphertext();
    const { answer, connections } = await withServer(app, async (port, server) => {
      const response = await rawRequest(port, [head([`Content-Length: ${value.length}`]), value.slice(0, 10), value.slice(10, 20)], 150);
      return { answer: response, connections: await openConnections(server) };
    });
    expect(answer.status).toBe(408);
    expect(connections).toBe(0);
    expect(answer.closed).toBe(true);
    expect(JSON.parse(answer.body).error.code).toBe('REQUEST_TIMEOUT');
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'REQUEST_TIMEOUT' })]);
  });

  it('stores nothing and leaves nothing pending when the client disconnects mid-body', async () => {
    const { app, service, events } = guestApp();
    const value = ciphertext();
    await withServer(app, async (port, server) => {
      await rawRequest(port, [head([`Content-Length: ${value.length}`]), value.slice(0, 100)], 0, 300).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await openConnections(server)).toBe(0);
      expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'BAD_REQUEST' })]);
      const res = await request(`http://127.0.0.1:${port}`).get(PATH).set('X-Test-Instance', 'i-1');
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
    });
    expect(await service.get('i-1')).toBeUndefined();
  });
});

describe('guest router: body parsers the host mounted first', () => {
  it('uses the raw Buffer of express.raw() and the text of express.text()', async () => {
    for (const parser of [express.raw({ type: '*/*' }), express.text({ type: '*/*' })]) {
      const { app, service } = guestApp({ before: [parser] });
      const value = ciphertext();
      const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').set('Content-Type', 'text/plain').send(value);
      expect(res.status).toBe(200);
      expect(await service.get('i-1')).toBe(value);
    }
  });

  it('recovers base64 byte for byte after a global express.urlencoded() and json(), for every RSA size', async () => {
    const { app, service, events } = guestApp({
      before: [express.urlencoded({ extended: false }), express.json()],
      serviceOptions: { maxBytes: 4096 },
    });
    let instance = 0;
    // 512- to 8192-bit blocks; sizes 256, 257 and 258 give the three paddings ('', '==', '=').
    for (const bytes of [64, 128, 256, 257, 258, 384, 512, 1024]) {
      for (let attempt = 0; attempt < 8; attempt++) {
        const value = ciphertext(bytes);
        const id = `i-${instance++}`;
        const res = await request(app)
          .post(PATH)
          .set('X-Test-Instance', id)
          .set('Content-Type', 'application/x-www-form-urlencoded')
          .send(value);
        expect(res.status).toBe(200);
        expect(await service.get(id)).toBe(value);
      }
    }
    expect(events.filter((event) => event.type === 'password.set')).toHaveLength(instance);
  });

  it('answers 400 INVALID_PASSWORD to a form-parsed body that cannot have been base64, storing nothing', async () => {
    const { app, service, events } = guestApp({ before: [express.urlencoded({ extended: true })] });
    for (const body of ['Passw0rd', 'a=b&c=d', `${ciphertext()}&x=1`, 'QUJD%2B', 'QUJDRA=x']) {
      const res = await request(app)
        .post(PATH)
        .set('X-Test-Instance', 'i-1')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_PASSWORD');
    }
    expect(await service.get('i-1')).toBeUndefined();
    expect(events.map((event) => event.reason)).toEqual(Array(5).fill('INVALID_PASSWORD'));
  });

  it("answers 500 INTERNAL in format 'text' after express.urlencoded(), with an event every time and a rate-limited log line", async () => {
    const { app, service, events, logger } = guestApp({
      before: [express.urlencoded({ extended: false })],
      serviceOptions: { format: 'text' },
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await request(app)
        .post(PATH)
        .set('X-Test-Instance', 'i-1')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('Pass word+1');
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('INTERNAL');
    }
    expect(events).toEqual(
      Array(3).fill(expect.objectContaining({ type: 'password.rejected', reason: 'BODY_ALREADY_PARSED', instanceId: 'i-1' })),
    );
    const advice = logger.errors.filter(([message]) => String(message).includes('exceptPasswordRoutes(express.urlencoded())'));
    expect(advice).toHaveLength(1);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it('keeps a parser wrapped in exceptPasswordRoutes() off the password route and on the host\'s own routes', async () => {
    const { app, service } = guestApp({
      before: [exceptPasswordRoutes(express.urlencoded({ extended: false }))],
      serviceOptions: { format: 'text' },
    });
    app.post('/openstack/latest/feedback', (req, res) => {
      res.json(req.body);
    });
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect((await request(app).post(PATH).set('X-Test-Instance', 'i-1').set(form).send('Pass word+1&x=%41')).status).toBe(200);
    expect(await service.get('i-1')).toBe('Pass word+1&x=%41');
    expect((await request(app).post('/openstack/latest/feedback').set(form).send('a=1&b=%41')).body).toEqual({ a: '1', b: 'A' });
  });

  it('is unaffected by express.json() for bodies that are not JSON', async () => {
    const { app, service } = guestApp({ before: [express.json()] });
    const value = ciphertext();
    const res = await request(app)
      .post(PATH)
      .set('X-Test-Instance', 'i-1')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(value);
    expect(res.status).toBe(200);
    expect(await service.get('i-1')).toBe(value);
  });
});

describe("README: which body parsers are safe in front of the guest router", () => {
  const LARGE = 500 * 1024;
  /** The bytes a request made the server read from its socket, headers included, by answer time. */
  function socketBytes(): { before: express.RequestHandler; read: number[] } {
    const read: number[] = [];
    return {
      read,
      before: (req, res, next) => {
        res.on('finish', () => read.push(req.socket.bytesRead));
        next();
      },
    };
  }
  function post(path: string, type: string, length: number): string {
    return [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'X-Test-Instance: i-1', `Content-Type: ${type}`, `Content-Length: ${length}`].join('\r\n') + '\r\n\r\n';
  }
  const PARSERS: Array<[string, () => express.RequestHandler, string, string]> = [
    ['express.urlencoded()', () => express.urlencoded({ extended: false, limit: '1mb' }), 'application/x-www-form-urlencoded', 'a'],
    ['express.json()', () => express.json({ limit: '1mb' }), 'application/json', ' '],
    ['express.raw()', () => express.raw({ limit: '1mb', type: '*/*' }), 'application/octet-stream', 'a'],
    ['express.text()', () => express.text({ limit: '1mb', type: '*/*' }), 'text/plain', 'a'],
  ];
  // Every spelling the router answers as the password route: escapes decode as Express decodes params.
  const SPELLINGS = [
    '/openstack/latest/password',
    '/openstack/l%61test/password',
    '/openstack/%6C%61%74%65%73%74/password/',
    '/openstack/2013-04%2D04/password',
    '/OPENSTACK/latest/password',
  ];

  describe.each(PARSERS)('%s wrapped in exceptPasswordRoutes', (_, parser, type, filler) => {
    it.each(SPELLINGS)('never runs on %s: the router reads at most maxBytes and answers 413 itself', async (path) => {
      const bytes = socketBytes();
      const { app, service } = guestApp({ before: [bytes.before, exceptPasswordRoutes(parser())] });
      const answer = await withServer(app, (port) => rawRequest(port, [post(path, type, LARGE), filler.repeat(LARGE)]));
      expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      expect(bytes.read[0]).toBeLessThan(LARGE / 4);
      expect(await service.peek('i-1')).toBeUndefined();
    });
  });

  it.each(SPELLINGS)("stores a 6-byte form-typed POST to %s in format 'text' behind a wrapped urlencoded()", async (path) => {
    const { app, service } = guestApp({
      before: [exceptPasswordRoutes(express.urlencoded({ extended: false, limit: '1mb' }))],
      serviceOptions: { format: 'text' },
    });
    const answer = await withServer(app, (port) =>
      rawRequest(port, [post(path, 'application/x-www-form-urlencoded', 6), 'a+b=cd']),
    );
    expect(answer.status).toBe(200);
    expect(await service.peek('i-1')).toBe('a+b=cd');
  });

  it('unwrapped, a parser reads a body of its type up to its own limit before the router sees it', async () => {
    const bytes = socketBytes();
    const { app } = guestApp({ before: [bytes.before, express.raw({ limit: '1mb', type: '*/*' })] });
    const answer = await withServer(app, (port) => rawRequest(port, [post(PATH, 'application/octet-stream', LARGE), 'a'.repeat(LARGE)]));
    // Still the package's 413, but only after the whole body was read.
    expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(bytes.read[0]).toBeGreaterThan(LARGE);
  });

  it('unwrapped, express.json() leaves the router an object: 500 INTERNAL and password.rejected BODY_ALREADY_PARSED', async () => {
    const { app, service, events } = guestApp({ before: [express.json()] });
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').set('Content-Type', 'application/json').send('{"password":"x"}');
    expect([res.status, res.body.error.code]).toEqual([500, 'INTERNAL']);
    expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'BODY_ALREADY_PARSED' })]);
    expect(await service.peek('i-1')).toBeUndefined();
  });
});
