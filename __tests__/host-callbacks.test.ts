import express from 'express';
import request from 'supertest';
import {
  createPasswordRouter,
  createServerPasswordRouter,
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
