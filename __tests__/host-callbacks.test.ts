import express from 'express';
import request from 'supertest';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  PasswordError,
  PasswordService,
  type Logger,
  type PasswordEvent,
} from '../lib';
import { ciphertext, recordingLogger } from './helpers/app';

/** How a host callback misbehaves: each way a sync or async function can fail. */
const FAILURES = {
  throws: () => {
    throw new Error('hook down');
  },
  rejects: async () => {
    throw new Error('hook down');
  },
  'rejects with a non-Error': () => Promise.reject('hook down'),
  'returns a rejecting thenable': () => ({ then: (_: unknown, reject: (reason: unknown) => void) => reject(new Error('hook down')) }),
  'returns a thenable whose then throws': () => ({
    then: () => {
      throw new Error('hook down');
    },
  }),
  'returns an object whose then getter throws': () => ({
    get then(): never {
      throw new Error('hook down');
    },
  }),
} satisfies Record<string, () => unknown>;

/** Records unhandled rejections while a test runs: each one would end a Node 20 process. */
function watchUnhandledRejections(): { reasons: unknown[]; stop: () => void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

const GUEST = { 'X-Test-Instance': 'i-1' };
const GUEST_PATH = '/openstack/latest/password';
const OWNER_PATH = '/compute/v2.1/servers/i-1/os-server-password';
const OWNER = { 'X-Auth-Token': 'owner' };

interface Hooks {
  authenticate?: (req: express.Request) => unknown;
  lookupInstance?: (context: unknown) => unknown;
  principalId?: (principal: object) => unknown;
  onEvent?: (event: PasswordEvent) => unknown;
  logger?: Logger;
}

/** Both routers on one service, with the given callbacks in place of well-behaved ones. */
function app(hooks: Hooks = {}) {
  const events: PasswordEvent[] = [];
  const logger = hooks.logger ?? recordingLogger();
  const lookups: unknown[] = [];
  const service = new PasswordService({
    logger,
    onEvent: (event) => {
      events.push(event);
      return hooks.onEvent?.(event);
    },
  });
  const lookupInstance = (context: unknown) => {
    lookups.push(context);
    return hooks.lookupInstance ? hooks.lookupInstance(context) : { id: 'i-1' };
  };
  const common = {
    service,
    logger,
    lookupInstance: lookupInstance as never,
    ...(hooks.principalId && { principalId: hooks.principalId as never }),
  };
  const host = express();
  host.use(
    '/openstack',
    createPasswordRouter({
      ...common,
      authenticate: (hooks.authenticate ?? ((req: express.Request) => (req.get('x-test-instance') ? { instanceId: 'i-1' } : null))) as never,
    }),
  );
  host.use(
    '/compute/v2.1',
    createServerPasswordRouter({
      ...common,
      authenticate: (hooks.authenticate ?? ((req: express.Request) => (req.get('x-auth-token') ? { id: 'owner' } : null))) as never,
    }),
  );
  return { host, service, events, lookups };
}

describe('host callbacks that fail never crash the process nor leave a request unanswered', () => {
  let watch: ReturnType<typeof watchUnhandledRejections>;
  beforeEach(() => {
    watch = watchUnhandledRejections();
  });
  afterEach(() => watch.stop());

  describe.each(Object.entries(FAILURES))('a callback that %s', (_, fail) => {
    it.each(['authenticate', 'lookupInstance', 'principalId'] as const)(
      '%s: 500 INTERNAL on both routers, nothing stored',
      async (hook) => {
        const { host, service } = app({ [hook]: fail });
        const post = await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext());
        expect([post.status, post.body.error.code]).toEqual([500, 'INTERNAL']);
        const read = await request(host).get(OWNER_PATH).set(OWNER);
        expect([read.status, read.body.error.code]).toEqual([500, 'INTERNAL']);
        expect(await service.peek('i-1')).toBeUndefined();
        await settle();
        expect(watch.reasons).toEqual([]);
      },
    );

    it('onEvent: the answers are unchanged, the failure is logged', async () => {
      const logger = recordingLogger();
      const { host, service } = app({ onEvent: fail, logger });
      // access.denied, then password.set, password.read, password.conflict and password.cleared.
      expect((await request(host).get(GUEST_PATH)).status).toBe(403);
      expect((await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext())).status).toBe(200);
      expect((await request(host).get(OWNER_PATH).set(OWNER)).status).toBe(200);
      expect((await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext())).status).toBe(409);
      expect((await request(host).delete(OWNER_PATH).set(OWNER)).status).toBe(204);
      expect(await service.peek('i-1')).toBeUndefined();
      await settle();
      expect(watch.reasons).toEqual([]);
      expect(logger.errors.filter(([message]) => String(message).includes('onEvent failed'))).toHaveLength(5);
    });

    it('logger: the answers are unchanged', async () => {
      const logger = { warn: fail, error: fail };
      const { host } = app({ logger, authenticate: FAILURES.throws });
      expect((await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext())).status).toBe(500);
      const broken = app({ logger, onEvent: fail });
      expect((await request(broken.host).post(GUEST_PATH).set(GUEST).send(ciphertext())).status).toBe(200);
      await settle();
      expect(watch.reasons).toEqual([]);
    });
  });

  it('accepts async callbacks that succeed: principalId and onEvent', async () => {
    const seen: PasswordEvent[] = [];
    const { host } = app({
      principalId: async () => 'named-later',
      onEvent: async (event) => {
        seen.push(event);
      },
    });
    expect((await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext())).status).toBe(200);
    expect(seen).toEqual([expect.objectContaining({ type: 'password.set', principalId: 'named-later' })]);
  });
});

describe('only a non-null object authenticates', () => {
  it.each([false, 0, '', 'admin', true, 1, NaN, null, undefined, Symbol('principal')])(
    'authenticate resolving %p: guest 403, owner 401, lookupInstance never called',
    async (principal) => {
      for (const wrap of [(value: unknown) => value, async (value: unknown) => value]) {
        const { host, service, lookups, events } = app({ authenticate: () => wrap(principal) });
        const post = await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext());
        expect([post.status, post.body.error.code]).toEqual([403, 'FORBIDDEN']);
        const read = await request(host).get(OWNER_PATH).set(OWNER);
        expect([read.status, read.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
        expect(read.headers['www-authenticate']).toBe('Bearer realm="compute"');
        expect(lookups).toEqual([]);
        expect(await service.peek('i-1')).toBeUndefined();
        expect(events.map((event) => event.type)).toEqual(['access.denied', 'access.denied']);
      }
    },
  );

  it.each([false, 0, '', null, undefined, NaN])('lookupInstance resolving %p is 404 INSTANCE_NOT_FOUND', async (found) => {
    const { host, service } = app({ lookupInstance: async () => found });
    const post = await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext());
    expect([post.status, post.body.error.code]).toEqual([404, 'INSTANCE_NOT_FOUND']);
    const read = await request(host).get(OWNER_PATH).set(OWNER);
    expect([read.status, read.body.error.code]).toEqual([404, 'INSTANCE_NOT_FOUND']);
    expect(await service.peek('i-1')).toBeUndefined();
  });

  it.each([
    ['a string', 'i-1'],
    ['true', true],
    ['an object without id', { name: 'i-1' }],
    ['a numeric id', { id: 7 }],
    ['an empty id', { id: '' }],
    ['a lone surrogate id', { id: 'vm\uD800' }],
    ['an id with U+0000', { id: 'vm\u0000x' }],
    ['an id with a line break', { id: 'vm\nx' }],
    ['a non-string publicKey', { id: 'i-1', publicKey: 42 }],
  ])('lookupInstance resolving %s is the host\'s mistake: 500 INTERNAL, logged', async (_, found) => {
    const logger = recordingLogger();
    const { host, service } = app({ lookupInstance: () => found, logger });
    const post = await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext());
    expect([post.status, post.body.error.code]).toEqual([500, 'INTERNAL']);
    expect(await service.peek('i-1')).toBeUndefined();
    expect(String(logger.errors[0][0])).toMatch(/lookupInstance must resolve/);
  });
});

describe('principals without a name', () => {
  it('warns once when a principal has neither a string id nor instanceId and no principalId option is set', async () => {
    const logger = recordingLogger();
    const { host, events } = app({ authenticate: () => ({ userId: 'u-1', projectId: 'p1', roles: ['reader'] }), logger });
    for (let attempt = 0; attempt < 3; attempt++) expect((await request(host).get(OWNER_PATH).set(OWNER)).status).toBe(200);
    const warnings = logger.warnings.filter(([message]) => String(message).includes('pass the `principalId` option'));
    expect(warnings).toHaveLength(1);
    expect(events.every((event) => event.principalId === undefined)).toBe(true);
  });

  it('does not warn when principalId names the caller', async () => {
    const logger = recordingLogger();
    const { host, events } = app({
      authenticate: () => ({ userId: 'u-1' }),
      principalId: (principal) => (principal as { userId: string }).userId,
      logger,
    });
    await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext());
    expect(logger.warnings).toEqual([]);
    expect(events[0]).toEqual(expect.objectContaining({ type: 'password.set', principalId: 'u-1' }));
  });
});

describe("a callback's result never crashes the process nor makes an answer that is not the package's", () => {
  let watch: ReturnType<typeof watchUnhandledRejections>;
  beforeEach(() => {
    watch = watchUnhandledRejections();
  });
  afterEach(() => watch.stop());

  const cyclic = (): object => {
    const body: { error: { self?: unknown } } = { error: {} };
    body.error.self = body;
    return body;
  };
  /** errorBody results no answer can carry, each answered with the default body and the same status. */
  const HOSTILE_BODIES: Array<[string, () => unknown]> = [
    ['a BigInt inside', () => ({ fault: { at: BigInt(1) } })],
    ['a cycle', cyclic],
    ['a throwing toJSON', () => ({ toJSON: () => { throw new Error('toJSON down'); } })],
    ['a toJSON giving undefined', () => ({ toJSON: () => undefined })],
    ['a toJSON giving a number', () => ({ toJSON: () => 5 })],
    ['a huge object', () => ({ fault: 'x'.repeat(1024 * 1024) })],
    ['an array', () => [{ message: 'no' }]],
    ['a string', () => 'Not Found'],
    ['a rejecting promise', () => Promise.reject(new Error('async errorBody'))],
    ['a getter that throws', () => ({ get fault(): never { throw new Error('getter down'); } })],
  ];

  /** Both routers with `errorBody`, on the sync path (a malformed escape) and the async one (no credentials). */
  function withErrorBody(errorBody: () => unknown) {
    const service = new PasswordService({ logger: recordingLogger() });
    const logger = recordingLogger();
    const common = { service, logger, lookupInstance: () => ({ id: 'i-1' }), errorBody: errorBody as never };
    const host = express();
    host.use('/openstack', createPasswordRouter({ ...common, authenticate: () => null }));
    host.use('/compute/v2.1', createServerPasswordRouter({ ...common, authenticate: () => null }));
    return { host, logger };
  }

  const DEFAULT_ANSWERS: Array<[string, 'get' | 'post', string, number, string]> = [
    ['guest, malformed escape (sync)', 'get', '/openstack/%ZZ/password', 400, 'BAD_REQUEST'],
    ['guest, no credentials (async)', 'post', GUEST_PATH, 403, 'FORBIDDEN'],
    ['owner, malformed escape (sync)', 'get', '/compute/v2.1/servers/%ZZ/os-server-password', 400, 'BAD_REQUEST'],
    ['owner, no credentials (async)', 'get', OWNER_PATH, 401, 'UNAUTHENTICATED'],
  ];

  describe.each(HOSTILE_BODIES)('errorBody returning %s', (_, errorBody) => {
    it.each(DEFAULT_ANSWERS)('%s: the default JSON body with the same status, logged', async (__, method, path, status, code) => {
      const { host, logger } = withErrorBody(errorBody);
      const res = await request(host)[method](path).send(ciphertext());
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
      expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
      expect(logger.errors.map(([message]) => String(message)).join('\n')).toMatch(/errorBody/);
      await settle();
      expect(watch.reasons).toEqual([]);
    });
  });

  it('still answers with what a well-behaved errorBody returns', async () => {
    const { host } = withErrorBody(() => ({ itemNotFound: { code: 401, message: 'no' } }));
    expect((await request(host).get(OWNER_PATH)).body).toEqual({ itemNotFound: { code: 401, message: 'no' } });
  });

  it.each([
    ['a header injection', '1\r\nX-Injected: yes'],
    ['NaN', NaN],
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['Infinity', Infinity],
    ['an object', { seconds: 1 }],
    ['a BigInt', BigInt(5)],
  ])("a hook's PasswordError whose retryAfter is %s: 429 with Retry-After 1 and the default body", async (_, retryAfter) => {
    const hostile = () => {
      throw new PasswordError(429, 'RATE_LIMITED', 'slow down', { retryAfter: retryAfter as never });
    };
    const { host } = app({ authenticate: hostile, lookupInstance: hostile });
    for (const res of [await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext()), await request(host).get(OWNER_PATH).set(OWNER)]) {
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['x-injected']).toBeUndefined();
      expect(res.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down' } });
    }
    await settle();
    expect(watch.reasons).toEqual([]);
  });

  it('keeps a retryAfter a header can hold', async () => {
    const { host } = app({
      authenticate: () => {
        throw new PasswordError(503, 'STORE_UNAVAILABLE', 'later', { retryAfter: 30 });
      },
    });
    const res = await request(host).get(OWNER_PATH).set(OWNER);
    expect([res.status, res.headers['retry-after']]).toEqual([503, '30']);
  });

  it.each([
    ['a BigInt code', () => new PasswordError(403, BigInt(7) as never, 'no')],
    ['a Symbol message', () => Object.assign(new PasswordError(403, 'FORBIDDEN', 'no'), { message: Symbol('no') })],
    ['a status getter that throws', () => Object.defineProperty(new PasswordError(403, 'FORBIDDEN', 'no'), 'status', { get: () => { throw new Error('status down'); } })],
  ])("a hook throwing a PasswordError with %s: 500 INTERNAL with the default body", async (_, make) => {
    const { host } = app({
      authenticate: () => {
        throw make();
      },
    });
    for (const res of [await request(host).post(GUEST_PATH).set(GUEST).send(ciphertext()), await request(host).get(OWNER_PATH).set(OWNER)]) {
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'An internal error occurred.' } });
    }
    await settle();
    expect(watch.reasons).toEqual([]);
  });
});
