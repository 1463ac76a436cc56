import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import Redis from 'ioredis';
import { MemoryStore, OptionsError, PasswordError, PasswordResetService, type PasswordEvent, type PasswordStore } from '../lib';
import { RedisStore } from '../lib/stores/redis';
import { recordingLogger } from './helpers/app';

const KEY = randomBytes(32);

function resetsWithEvents(options: ConstructorParameters<typeof PasswordResetService>[0] = {}) {
  const events: PasswordEvent[] = [];
  const logger = recordingLogger();
  const resets = new PasswordResetService({ onEvent: (event) => events.push(event), logger, ...options });
  return { resets, events, logger };
}

/** A store whose backend is down: every call rejects. */
class BrokenStore implements PasswordStore {
  get = async () => Promise.reject(new Error('connection refused'));
  setIfAbsent = async () => Promise.reject(new Error('connection refused'));
  set = async () => Promise.reject(new Error('connection refused'));
  delete = async () => Promise.reject(new Error('connection refused'));
}

/** A MemoryStore whose raw values the test can read and move. */
function rawStore(): MemoryStore & { raw(id: string): Promise<string | undefined> } {
  const store = new MemoryStore() as MemoryStore & { raw(id: string): Promise<string | undefined> };
  store.raw = (id) => MemoryStore.prototype.get.call(store, id);
  return store;
}

describe('PasswordResetService: the reset flow', () => {
  it('queues, delivers until acknowledged, then has nothing pending; events never carry the password', async () => {
    const { resets, events } = resetsWithEvents();
    const context = { principalId: 'owner-1', requestId: 'req-1' };
    const password = await resets.reset('vm-1', { password: 'Correct-Horse-9' }, context);
    expect(password).toBe('Correct-Horse-9');
    expect(await resets.pending('vm-1')).toBe(true);
    expect(await resets.take('vm-1')).toBe('Correct-Horse-9');
    // A lost answer is fetched again: it stays pending until acknowledged.
    expect(await resets.take('vm-1')).toBe('Correct-Horse-9');
    expect(await resets.acknowledge('vm-1')).toBe(true);
    expect(await resets.pending('vm-1')).toBe(false);
    expect(await resets.take('vm-1')).toBeUndefined();
    expect(await resets.acknowledge('vm-1')).toBe(false);
    expect(events.map(({ type }) => type)).toEqual(['reset.queued', 'reset.delivered', 'reset.delivered', 'reset.applied']);
    expect(events[0]).toMatchObject({ instanceId: 'vm-1', principalId: 'owner-1', requestId: 'req-1' });
    expect(JSON.stringify(events)).not.toContain('Correct-Horse-9');
    for (const event of events) expect(typeof event.durationMs).toBe('number');
  });

  it('replaces a pending reset with a later one, and cancels', async () => {
    const { resets, events } = resetsWithEvents();
    await resets.reset('vm-1', { password: 'first-Passw0rd' });
    await resets.reset('vm-1', { password: 'second-Passw0rd' });
    expect(await resets.take('vm-1')).toBe('second-Passw0rd');
    expect(await resets.cancel('vm-1')).toBe(true);
    expect(await resets.cancel('vm-1')).toBe(false);
    expect(await resets.pending('vm-1')).toBe(false);
    expect(events.map(({ type }) => type)).toEqual(['reset.queued', 'reset.queued', 'reset.delivered', 'reset.cancelled']);
  });

  it('generates 20 characters from the CSPRNG with upper and lower case letters, digits and a symbol', async () => {
    const { resets } = resetsWithEvents();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = await resets.reset(`vm-${i}`);
      expect(password).toHaveLength(20);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[^A-Za-z0-9]/);
      expect(password).toMatch(/^[\x21-\x7e]+$/);
      expect(await resets.take(`vm-${i}`)).toBe(password);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
  });

  it('expires a reset nobody acknowledged after ttl, 24 hours by default', async () => {
    expect(new PasswordResetService().ttl).toBe(24 * 60 * 60 * 1000);
    const { resets } = resetsWithEvents({ ttl: 50 });
    await resets.reset('vm-1', { password: 'Expiring-Pw1' });
    expect(await resets.pending('vm-1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await resets.pending('vm-1')).toBe(false);
  });
});

describe('PasswordResetService: a password the host gives', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['7 characters', 'Abcde1!', /8 to 127 characters; it is 7/],
    ['128 characters', 'a'.repeat(128), /8 to 127 characters; it is 128/],
    ['a control character', 'Passw0rd\u0007x', /control or format/],
    ['a line break inside', 'Passw0rd\nsecond', /control or format/],
    ['a format character (zero-width space)', 'Pass\u200bw0rd', /control or format/],
    ['a bidirectional override', 'Pass\u202ew0rd', /control or format/],
    ['a leading space', ' Passw0rd!', /whitespace/],
    ['a trailing space', 'Passw0rd! ', /whitespace/],
    ['a trailing no-break space', 'Passw0rd!\u00a0', /whitespace/],
    ['the word saved_password', 'saved_password', /protocol's words/],
    ['the word bad_request', 'bad_request', /protocol's words/],
    ['a lone surrogate', 'Passw0rd\ud800', /lone surrogate/],
    ['a number', 12345678, /must be a string/],
  ];

  it.each(refused)('refuses %s with 400 INVALID_PASSWORD and leaves the pending reset as it was', async (_name, password, message) => {
    const { resets, events } = resetsWithEvents();
    await resets.reset('vm-1', { password: 'Earlier-Passw0rd' });
    const refusal = resets.reset('vm-1', { password: password as string });
    await expect(refusal).rejects.toBeInstanceOf(PasswordError);
    await expect(refusal).rejects.toMatchObject({ status: 400, code: 'INVALID_PASSWORD', message: expect.stringMatching(message) });
    expect(await resets.take('vm-1')).toBe('Earlier-Passw0rd');
    expect(events.map(({ type }) => type)).toEqual(['reset.queued', 'reset.delivered']);
  });

  it.each([
    ['8 characters', 'Abcdef1!'],
    ['127 characters', 'a'.repeat(127)],
    ['127 code points beyond the BMP', '\u{1F511}'.repeat(127)],
    ['inner spaces', 'correct horse battery'],
    ['non-ASCII letters', 'Pässwörd-Ünïcode'],
  ])('accepts %s', async (_name, password) => {
    const { resets } = resetsWithEvents();
    expect(await resets.reset('vm-1', { password })).toBe(password);
    expect(await resets.take('vm-1')).toBe(password);
  });

  it('refuses ids no store can hold with 400 BAD_REQUEST, before the store', async () => {
    const { resets, events } = resetsWithEvents({ store: new BrokenStore(), encryptionKey: KEY });
    const refusal = { status: 400, code: 'BAD_REQUEST' };
    for (const id of ['', 'x'.repeat(256), 'vm\ud800', 'vm\u0000', 'vm\n1'] as const) {
      await expect(resets.reset(id)).rejects.toMatchObject(refusal);
      await expect(resets.take(id)).rejects.toMatchObject(refusal);
      await expect(resets.acknowledge(id)).rejects.toMatchObject(refusal);
      await expect(resets.cancel(id)).rejects.toMatchObject(refusal);
      await expect(resets.pending(id)).rejects.toMatchObject(refusal);
    }
    expect(events).toEqual([]);
  });
});

describe('PasswordResetService: encrypted at rest', () => {
  it('stores neither the password nor its base64 or hex, with a fresh IV and the key id in each value', async () => {
    const store = rawStore();
    const { resets } = resetsWithEvents({ store });
    const password = 'Plain-Text-Secret-42';
    await resets.reset('vm-1', { password });
    const first = (await store.raw('vm-1')) as string;
    await resets.reset('vm-1', { password });
    const second = (await store.raw('vm-1')) as string;
    for (const raw of [first, second]) {
      for (const encoding of [password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('base64url'), Buffer.from(password).toString('hex')]) {
        expect(raw).not.toContain(encoding);
      }
      expect(raw).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    }
    expect(first.split('.')[1]).toBe(second.split('.')[1]);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
  });

  it('treats a value moved to another instance as absent, logged without contents, with reset.unreadable', async () => {
    const store = rawStore();
    const { resets, events, logger } = resetsWithEvents({ store, encryptionKey: KEY });
    await resets.reset('vm-1', { password: 'Moved-Passw0rd' });
    await store.set('vm-2', (await store.raw('vm-1')) as string);
    expect(await resets.take('vm-2')).toBeUndefined();
    expect(await resets.pending('vm-2')).toBe(false);
    expect(events.filter(({ type }) => type === 'reset.unreadable').map(({ instanceId }) => instanceId)).toEqual(['vm-2', 'vm-2']);
    expect(logger.errors.length).toBe(2);
    expect(JSON.stringify(logger.errors)).not.toContain((await store.raw('vm-1'))?.split('.')[3]);
    expect(JSON.stringify(logger.errors)).toContain('vm-2');
    expect(await resets.take('vm-1')).toBe('Moved-Passw0rd');
  });

  it('rotates keys: [new, old] reads values of the old key and writes with the new one', async () => {
    const store = rawStore();
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new PasswordResetService({ store, encryptionKey: oldKey, logger: recordingLogger() });
    await before.reset('vm-old', { password: 'Old-Key-Passw0rd' });
    const oldId = (await store.raw('vm-old'))?.split('.')[1];

    const rotated = new PasswordResetService({ store, encryptionKey: [newKey.toString('base64'), oldKey.toString('hex')] });
    expect(await rotated.take('vm-old')).toBe('Old-Key-Passw0rd');
    await rotated.reset('vm-new', { password: 'New-Key-Passw0rd' });
    expect((await store.raw('vm-new'))?.split('.')[1]).not.toBe(oldId);

    const newOnly = resetsWithEvents({ store, encryptionKey: newKey });
    expect(await newOnly.resets.take('vm-new')).toBe('New-Key-Passw0rd');
    expect(await newOnly.resets.take('vm-old')).toBeUndefined();
    expect(newOnly.events.map(({ type }) => type)).toEqual(['reset.delivered', 'reset.unreadable']);
    expect(await before.take('vm-new')).toBeUndefined();
  });

  it('treats a value that is not one of its own as absent', async () => {
    const store = rawStore();
    const { resets, events } = resetsWithEvents({ store, encryptionKey: KEY });
    for (const value of ['plaintext', 'v1.abc', 'v1.a.b.c.d', 'v1.xxxxxxxx.AAAA.AAAA', 'v2.xxxxxxxx.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA']) {
      await store.set('vm-1', value);
      expect(await resets.take('vm-1')).toBeUndefined();
    }
    expect(events.every(({ type }) => type === 'reset.unreadable')).toBe(true);
  });
});

describe('PasswordResetService: options, checked at creation', () => {
  const store: PasswordStore = new BrokenStore();

  it('requires encryptionKey for any store but MemoryStore, saying how to make one', () => {
    expect(() => new PasswordResetService({ store })).toThrow(OptionsError);
    expect(() => new PasswordResetService({ store })).toThrow(/`encryptionKey` is required.*openssl rand -base64 32/);
    expect(() => new PasswordResetService({ store: new MemoryStore() })).not.toThrow();
  });

  it('takes a Buffer, 64 hex digits, base64 of 32 bytes, or a non-empty list of them', () => {
    for (const encryptionKey of [KEY, KEY.toString('hex'), KEY.toString('base64'), `${KEY.toString('base64')}\n`, [KEY, KEY.toString('hex')]]) {
      expect(() => new PasswordResetService({ store, encryptionKey })).not.toThrow();
    }
    for (const encryptionKey of [randomBytes(16), randomBytes(33), 'secret', KEY.toString('hex').slice(2), randomBytes(24).toString('base64'), [], [KEY, 'short'], 42]) {
      expect(() => new PasswordResetService({ store, encryptionKey: encryptionKey as Buffer })).toThrow(/`encryptionKey` must .*openssl rand -base64 32/);
    }
  });

  it('refuses a misspelt option with a suggestion, and bad values', () => {
    expect(() => new PasswordResetService({ encryptionKeys: KEY } as never)).toThrow(/unknown option `encryptionKeys`. Did you mean `encryptionKey`\?/);
    expect(() => new PasswordResetService({ tll: 5 } as never)).toThrow(/Did you mean `ttl`\?/);
    expect(() => new PasswordResetService({ ttl: 0 })).toThrow(/`ttl` must be an integer/);
    expect(() => new PasswordResetService({ onEvent: 'log' as never })).toThrow(/`onEvent` must be a function/);
    expect(() => new PasswordResetService({ store: {} as never, encryptionKey: KEY })).toThrow(/must implement PasswordStore/);
  });

  it('answers a failing store with 503 and store.unavailable, whose reason carries nothing secret', async () => {
    const { resets, events, logger } = resetsWithEvents({ store, encryptionKey: KEY });
    for (const call of [() => resets.reset('vm-1', { password: 'Broken-Store-1' }), () => resets.take('vm-1'), () => resets.acknowledge('vm-1'), () => resets.cancel('vm-1'), () => resets.pending('vm-1')]) {
      await expect(call()).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    }
    expect(events.map(({ type }) => type)).toEqual(Array(5).fill('store.unavailable'));
    expect(JSON.stringify([events, logger.errors])).not.toContain('Broken-Store-1');
  });

  it('contains a throwing or rejecting onEvent', async () => {
    const logger = recordingLogger();
    const throwing = new PasswordResetService({ logger, onEvent: () => { throw new Error('sink down'); } });
    const rejecting = new PasswordResetService({ logger, onEvent: async () => Promise.reject(new Error('sink down')) });
    expect(await throwing.reset('vm-1', { password: 'Event-Sink-1' })).toBe('Event-Sink-1');
    expect(await rejecting.reset('vm-1', { password: 'Event-Sink-1' })).toBe('Event-Sink-1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.errors.map(([line]) => line)).toEqual([expect.stringMatching(/onEvent failed for a reset.queued/), expect.stringMatching(/onEvent failed/)]);
  });
});

describe('PasswordResetService: a store that stalls', () => {
  it('answers 503 within the store deadline, and no log line or event carries the password or its sealed value', async () => {
    // A server that accepts connections and never answers: every Redis command stalls.
    const sockets: Socket[] = [];
    const stalled = createServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => stalled.listen(0, '127.0.0.1', done));
    const client = new Redis((stalled.address() as AddressInfo).port, '127.0.0.1', {
      enableReadyCheck: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    });
    const events: PasswordEvent[] = [];
    const logger = recordingLogger();
    const resets = new PasswordResetService({
      store: new RedisStore({ client, prefix: 'mdpw-reset-stalled:', timeoutMs: 300 }),
      encryptionKey: KEY,
      onEvent: (event) => events.push(event),
      logger,
    });
    try {
      const started = performance.now();
      await expect(resets.reset('vm-1', { password: 'Stalled-Secret-77' })).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
      await expect(resets.take('vm-1')).rejects.toMatchObject({ status: 503 });
      await expect(resets.acknowledge('vm-1')).rejects.toMatchObject({ status: 503 });
      expect(performance.now() - started).toBeLessThan(3 * 300 + 2000);
      expect(events.map(({ type }) => type)).toEqual(['store.unavailable', 'store.unavailable', 'store.unavailable']);
      const told = JSON.stringify([events, logger.errors, logger.warnings]);
      expect(told).not.toContain('Stalled-Secret-77');
      expect(told).not.toContain('v1.');
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => stalled.close(done));
    }
  });
});
