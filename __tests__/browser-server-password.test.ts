import type { IncomingMessage, ServerResponse } from 'node:http';
import { clearServerPassword, getServerPassword, ServerPasswordError } from '../lib/browser';
import { DEFAULT_TIMEOUT_MS } from '../lib/browser/server-password';
import { startLocalServer, type LocalServer } from './helpers/cli-owner-api';

// The owner API calls of the browser module, in Node, against local servers that answer as a
// malicious or broken API would: redirects to another origin, trickled answers, endless answers,
// hostile text.

const TOKEN = 'gAAAAAB-owner-token_0123456789';
const SERVER_ID = 'web-1';
const PASSWORD_PATH = `/compute/v2.1/servers/${SERVER_ID}/os-server-password`;

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
}

const started: LocalServer[] = [];

/** A local server that records every request and answers with `answer`. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ origin: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = await startLocalServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', token: req.headers['x-auth-token'] as string | undefined });
    answer(req, res);
  });
  started.push(server);
  return { origin: server.origin, requests };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

type Call = (request: Parameters<typeof getServerPassword>[0]) => Promise<unknown>;
const CALLS: ReadonlyArray<[string, 'GET' | 'DELETE', Call]> = [
  ['getServerPassword', 'GET', getServerPassword],
  ['clearServerPassword', 'DELETE', clearServerPassword],
];

/** The rejection of `promise`, which must be a ServerPasswordError. */
async function refusal(promise: Promise<unknown>): Promise<ServerPasswordError> {
  const outcome = await promise.then(
    (value) => new Error(`expected a rejection, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ServerPasswordError);
  return outcome as ServerPasswordError;
}

describe('credentials never follow a redirect', () => {
  const cases = CALLS.flatMap(([name, method, call]) => [302, 307].map((status) => [name, status, method, call] as const));

  test.each(cases)('%s refuses a %i to another origin: nothing reaches it, no token, no replayed request', async (_name, status, method, call) => {
    const elsewhere = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"password":""}'));
    const api = await serve((_req, res) => res.writeHead(status, { Location: `${elsewhere.origin}${PASSWORD_PATH}` }).end());
    const error = await refusal(call({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN }));
    expect(error.status).toBe(status);
    expect(error.message).toMatch(/redirect, which is not followed: it would carry the token elsewhere/);
    expect(api.requests).toEqual([{ method, path: PASSWORD_PATH, token: TOKEN }]);
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('every call has a deadline', () => {
  /** One byte of a JSON answer a second, never finished. */
  const trickle = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 1000);
    res.on('close', () => clearInterval(timer));
  };
  /** Headers never sent. */
  const silent = () => undefined;

  const cases = CALLS.flatMap(([name, , call]) =>
    [
      ['an answer trickled one byte a second', trickle],
      ['no answer at all', silent],
    ].map(([what, answer]) => [name, what as string, answer as typeof trickle, call] as const),
  );

  test.each(cases)('%s gives up at timeoutMs on %s, with a clear error', async (_name, _what, answer, call) => {
    const api = await serve(answer);
    const started = Date.now();
    const outcome = call({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN, timeoutMs: 1500 });
    // The test's own limit, well past the deadline, so that a call that never gives up fails here.
    const watchdog = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('still pending after 15 s')), 15_000).unref());
    const error = await refusal(Promise.race([outcome, watchdog]));
    expect(error.status).toBe(0);
    expect(error.message).toBe(
      'The compute API did not answer within 1.5 s (`timeoutMs`): it is down, overloaded or too slow.',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  }, 20_000);

  test.each([0, -1, 1.5, Number.NaN, Infinity, '1000', 2 ** 31])('timeoutMs %p is refused before any request', async (timeoutMs) => {
    const api = await serve((_req, res) => res.end('{"password":""}'));
    const error = await refusal(getServerPassword({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN, timeoutMs: timeoutMs as number }));
    expect(error.status).toBe(0);
    expect(error.message).toContain('`timeoutMs` must be a whole number of milliseconds');
    expect(api.requests).toEqual([]);
  });

  test('the default deadline is 30 s; a timely answer is read', async () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(30_000);
    const api = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"password":"QUJD"}'));
    await expect(getServerPassword({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN })).resolves.toBe('QUJD');
  });
});

describe('answers read up to a cap', () => {
  test.each(CALLS)('%s stops reading an endless answer at 64 KiB', async (_name, _method, call) => {
    let sent = 0;
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const error = await refusal(call({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN, timeoutMs: 10_000 }));
    expect(error.message).toBe('The answer is larger than 65536 bytes.');
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('server text is cleaned before it is shown', () => {
  test('control, bidirectional and line-break characters are dropped from the message and code; at most 300 characters', async () => {
    const message = `Real\rFake\u202Egnp.exe\u2066\x1b[31mred\u2028next ${'x'.repeat(400)}`;
    const api = await serve((_req, res) =>
      res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 'FORBIDDEN\u202E\n', message } })),
    );
    const error = await refusal(getServerPassword({ url: `${api.origin}/compute/v2.1`, serverId: SERVER_ID, token: TOKEN }));
    expect(error.status).toBe(403);
    expect(error.code).toBe('FORBIDDEN ');
    expect(error.message.startsWith('Real Fakegnp.exe [31mred next xxx')).toBe(true);
    expect(error.message).not.toMatch(/[\p{Cc}\p{Cf}\u2028]/u);
    expect(Array.from(error.message)).toHaveLength(303);
    expect(error.message.endsWith('x...')).toBe(true);
  });
});
