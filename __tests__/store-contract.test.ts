import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PasswordService } from '../lib/core/service';
import { MemoryStore } from '../lib/stores/memory';
import type { PasswordStore } from '../lib/types';
import { openPostgresStore, openRedisStore, type OpenedStore } from './helpers/store-backends';
import { describeWithPostgres, describeWithRedis } from './helpers/services';

interface Backend {
  readonly name: string;
  readonly describe: jest.Describe;
  readonly open: () => Promise<OpenedStore>;
}

const backends: Backend[] = [
  {
    name: 'MemoryStore',
    describe,
    open: async () => {
      const store = new MemoryStore();
      return { store, close: () => store.close() };
    },
  },
  { name: 'RedisStore', describe: describeWithRedis, open: () => openRedisStore('contract') },
  { name: 'PostgresStore', describe: describeWithPostgres, open: () => openPostgresStore('contract') },
];

const base64Of = (bytes: number): string => randomBytes(bytes).toString('base64');
const ciphertext = base64Of(256);

/** Every kind of value a store must give back byte for byte. */
const values: Array<[string, string]> = [
  ...[64, 65, 66, 128, 256, 384, 512, 700, 1023, 1024].map((bytes): [string, string] => [
    `base64 of ${bytes} bytes`,
    base64Of(bytes),
  ]),
  ['base64 with non-zero padding bits (not canonical)', `${'A'.repeat(21)}B==`],
  ['plain text', 'Passw0rd!'],
  ['4096 ASCII bytes', 'a'.repeat(4096)],
  ['4096 bytes of emoji', '😀'.repeat(1024)],
  ['4096 bytes of CJK', '密码'.repeat(682) + 'abcd'],
  ['mixed scripts', 'Пароль-パスワード-🔑-é-é'],
  ['a NUL then base64', `\u0000${ciphertext}`],
  ['a \\u0001 then base64', `\u0001${ciphertext}`],
  ['a lone NUL', '\u0000'],
  ['NUL and \\u0001 then text', '\u0000\u0001text'],
];

describe.each(backends)('$name', (backend) => {
  backend.describe('honours the PasswordStore contract', () => {
    let opened: OpenedStore;
    let store: PasswordStore;

    beforeAll(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    afterAll(() => opened?.close());

    test('get of an absent id resolves undefined', async () => {
      await expect(store.get(randomUUID())).resolves.toBeUndefined();
    });

    test('setIfAbsent stores once and keeps the first value', async () => {
      const id = randomUUID();
      await expect(store.setIfAbsent(id, 'first')).resolves.toBe(true);
      await expect(store.setIfAbsent(id, 'second')).resolves.toBe(false);
      await expect(store.get(id)).resolves.toBe('first');
    });

    test('ids are independent of each other', async () => {
      const [a, b] = [randomUUID(), 'i'.repeat(255)];
      await store.setIfAbsent(a, 'for a');
      await expect(store.setIfAbsent(b, 'for b')).resolves.toBe(true);
      await expect(store.get(a)).resolves.toBe('for a');
      await expect(store.get(b)).resolves.toBe('for b');
    });

    test('set overwrites a value and stores an absent one', async () => {
      const id = randomUUID();
      await store.set(id, 'one');
      await expect(store.get(id)).resolves.toBe('one');
      await store.set(id, 'two');
      await expect(store.get(id)).resolves.toBe('two');
    });

    test('delete resolves true when it removed a value, then false; the id may be set again', async () => {
      const id = randomUUID();
      await store.setIfAbsent(id, 'old');
      await expect(store.delete(id)).resolves.toBe(true);
      await expect(store.delete(id)).resolves.toBe(false);
      await expect(store.get(id)).resolves.toBeUndefined();
      await expect(store.setIfAbsent(id, 'new')).resolves.toBe(true);
      await expect(store.get(id)).resolves.toBe('new');
    });

    test('a value with a ttl is gone after it, and setIfAbsent succeeds again', async () => {
      const [once, overwritten, deleted] = [randomUUID(), randomUUID(), randomUUID()];
      await expect(store.setIfAbsent(once, 'expiring', 300)).resolves.toBe(true);
      await store.set(overwritten, 'expiring', 300);
      await store.set(deleted, 'expiring', 300);
      await expect(store.get(once)).resolves.toBe('expiring');
      await expect(store.setIfAbsent(once, 'too early', 300)).resolves.toBe(false);
      await sleep(450);
      await expect(store.get(once)).resolves.toBeUndefined();
      await expect(store.get(overwritten)).resolves.toBeUndefined();
      await expect(store.delete(deleted)).resolves.toBe(false);
      await expect(store.setIfAbsent(once, 'after expiry')).resolves.toBe(true);
      await expect(store.get(once)).resolves.toBe('after expiry');
    });

    test('set without a ttl makes a value permanent again', async () => {
      const id = randomUUID();
      await store.set(id, 'expiring', 200);
      await store.set(id, 'permanent');
      await sleep(350);
      await expect(store.get(id)).resolves.toBe('permanent');
    });

    test.each(values)('gives back %s byte for byte', async (_name, value) => {
      const [once, overwritten] = [randomUUID(), randomUUID()];
      await expect(store.setIfAbsent(once, value)).resolves.toBe(true);
      await store.set(overwritten, 'previous');
      await store.set(overwritten, value);
      for (const id of [once, overwritten]) {
        const stored = await store.get(id);
        expect(stored).toBe(value);
        expect(Buffer.from(stored ?? '', 'utf8').equals(Buffer.from(value, 'utf8'))).toBe(true);
      }
    });

    test('of 200 concurrent setIfAbsent for one id, exactly one wins and its value is kept', async () => {
      const id = randomUUID();
      const candidates = Array.from({ length: 200 }, (_, index) => `candidate-${index}-${base64Of(64)}`);
      const results = await Promise.all(candidates.map((value) => store.setIfAbsent(id, value)));
      const winners = candidates.filter((_, index) => results[index]);
      expect(winners).toHaveLength(1);
      await expect(store.get(id)).resolves.toBe(winners[0]);
    });

    test('of 100 concurrent setIfAbsent over an expired value, exactly one replaces it', async () => {
      const id = randomUUID();
      await store.set(id, 'expired', 200);
      await sleep(300);
      const candidates = Array.from({ length: 100 }, (_, index) => `replacement-${index}`);
      const results = await Promise.all(candidates.map((value) => store.setIfAbsent(id, value)));
      const winners = candidates.filter((_, index) => results[index]);
      expect(winners).toHaveLength(1);
      await expect(store.get(id)).resolves.toBe(winners[0]);
    });

    test('ids with U+0000 or another C0 control are refused by the service with 400, storing nothing', async () => {
      const service = new PasswordService({ store, format: 'text' });
      const suffix = randomUUID();
      for (const control of ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u001f']) {
        const id = `vm${control}${suffix}`;
        for (const call of [
          () => service.setOnce(id, 'value'),
          () => service.overwrite(id, 'value'),
          () => service.get(id),
          () => service.clear(id),
        ]) {
          await expect(call()).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringContaining('control characters') });
        }
      }
      await expect(store.get(`vm${suffix}`)).resolves.toBeUndefined();
    });

    test('every id the rule allows is held apart and given back: 255 characters, astral, DEL, C1, spaces', async () => {
      const service = new PasswordService({ store, format: 'text' });
      const suffix = randomUUID();
      const ids = [
        `${suffix}${'x'.repeat(255 - suffix.length)}`,
        `vm-😀-${suffix}`,
        `vm\u007f${suffix}`,
        `vm\u0085${suffix}`,
        `vm ${suffix}`,
        `vm\u00a0${suffix}`,
      ];
      for (const [index, id] of ids.entries()) await expect(service.setOnce(id, `value ${index}`)).resolves.toBe(true);
      for (const [index, id] of ids.entries()) await expect(service.get(id)).resolves.toBe(`value ${index}`);
      for (const id of ids) await expect(service.clear(id)).resolves.toBe(true);
    });

    test('ids with a lone surrogate are refused by the service, so they never share one password', async () => {
      const service = new PasswordService({ store, format: 'text' });
      const suffix = randomUUID();
      const [high, low, replaced] = [`vm\uD800${suffix}`, `vm\uDC00${suffix}`, `vm\uFFFD${suffix}`];
      for (const id of [high, low]) {
        await expect(service.setOnce(id, 'for one of them')).rejects.toThrow('well-formed UTF-16');
        await expect(service.overwrite(id, 'for one of them')).rejects.toThrow('well-formed UTF-16');
        await expect(service.get(id)).rejects.toThrow('well-formed UTF-16');
        await expect(service.clear(id)).rejects.toThrow('well-formed UTF-16');
      }
      await expect(store.get(replaced)).resolves.toBeUndefined();
      // The well-formed neighbours stay apart.
      await expect(service.setOnce(`vm\uD800\uDC00${suffix}`, 'pair')).resolves.toBe(true);
      await expect(service.setOnce(replaced, 'replacement')).resolves.toBe(true);
      await expect(service.get(`vm\uD800\uDC00${suffix}`)).resolves.toBe('pair');
    });
  });
});
