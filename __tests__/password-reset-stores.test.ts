import { randomBytes } from 'node:crypto';
import { PasswordResetService, type PasswordEvent } from '../lib';
import { openPostgresStore, openRedisStore, type OpenedStore } from './helpers/store-backends';
import { describeWithPostgres, describeWithRedis } from './helpers/services';

jest.setTimeout(120_000);

const PASSWORD = 'Stored-Encrypted-Pw-42';
const ENCODINGS = [
  PASSWORD,
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(PASSWORD).toString('base64url'),
  Buffer.from(PASSWORD).toString('hex'),
  Buffer.from(PASSWORD).toString('base64').slice(0, 24),
];

/** What a store's raw value for `id` is, as its own client reads it. */
type RawReader = (id: string) => Promise<Buffer | undefined>;

interface Backend {
  readonly name: string;
  readonly describe: jest.Describe;
  readonly open: () => Promise<{ opened: OpenedStore; raw: RawReader }>;
}

const backends: Backend[] = [
  {
    name: 'RedisStore',
    describe: describeWithRedis,
    open: async () => {
      const opened = await openRedisStore('reset');
      return { opened, raw: async (id) => (await opened.client.getBuffer(opened.store.prefix + id)) ?? undefined };
    },
  },
  {
    name: 'PostgresStore',
    describe: describeWithPostgres,
    open: async () => {
      const opened = await openPostgresStore('reset');
      return {
        opened,
        raw: async (id) => {
          const { rows } = await opened.pool.query<{ value: Buffer }>(`SELECT value FROM ${opened.store.table} WHERE id = $1`, [id]);
          return rows[0]?.value;
        },
      };
    },
  },
];

for (const backend of backends) {
  backend.describe(`PasswordResetService on ${backend.name}`, () => {
    let opened: OpenedStore;
    let raw: RawReader;
    const key = randomBytes(32).toString('base64');

    beforeAll(async () => {
      ({ opened, raw } = await backend.open());
    });
    afterAll(async () => {
      await opened.close();
    });

    it('the raw value holds neither the password nor its base64 or hex encodings', async () => {
      const resets = new PasswordResetService({ store: opened.store, encryptionKey: key });
      await resets.reset('vm-raw', { password: PASSWORD });
      const value = (await raw('vm-raw')) as Buffer;
      expect(value).toBeDefined();
      for (const text of [value.toString('utf8'), value.toString('hex'), value.toString('base64')]) {
        for (const encoding of ENCODINGS) expect(text).not.toContain(encoding);
      }
      expect(value.toString('utf8')).toMatch(/^v1\./);
      expect(await resets.take('vm-raw')).toBe(PASSWORD);
    });

    it("a value moved to another instance's key does not decrypt: absent, with reset.unreadable", async () => {
      const events: PasswordEvent[] = [];
      const resets = new PasswordResetService({ store: opened.store, encryptionKey: key, onEvent: (event) => events.push(event), logger: { warn() {}, error() {} } });
      await resets.reset('vm-from', { password: PASSWORD });
      await opened.store.set('vm-to', ((await raw('vm-from')) as Buffer).toString('utf8'));
      expect(await resets.take('vm-to')).toBeUndefined();
      expect(await resets.pending('vm-to')).toBe(false);
      expect(events.at(-1)).toMatchObject({ type: 'reset.unreadable', instanceId: 'vm-to' });
      expect(await resets.take('vm-from')).toBe(PASSWORD);
    });

    it('rotation [new, old] reads values of the old key and writes with the new one', async () => {
      const newKey = randomBytes(32).toString('hex');
      const before = new PasswordResetService({ store: opened.store, encryptionKey: key });
      await before.reset('vm-rotate-old', { password: 'Written-Before-1' });
      const rotated = new PasswordResetService({ store: opened.store, encryptionKey: [newKey, key] });
      expect(await rotated.take('vm-rotate-old')).toBe('Written-Before-1');
      await rotated.reset('vm-rotate-new', { password: 'Written-After-1' });
      const keyIdOf = async (id: string) => ((await raw(id)) as Buffer).toString('utf8').split('.')[1];
      expect(await keyIdOf('vm-rotate-new')).not.toBe(await keyIdOf('vm-rotate-old'));
      const newOnly = new PasswordResetService({ store: opened.store, encryptionKey: newKey, logger: { warn() {}, error() {} } });
      expect(await newOnly.take('vm-rotate-new')).toBe('Written-After-1');
      expect(await newOnly.take('vm-rotate-old')).toBeUndefined();
    });

    it('a reset expires after ttl in the store itself', async () => {
      const resets = new PasswordResetService({ store: opened.store, encryptionKey: key, ttl: 1000 });
      await resets.reset('vm-ttl', { password: PASSWORD });
      expect(await resets.pending('vm-ttl')).toBe(true);
      await new Promise((done) => setTimeout(done, 1500));
      expect(await resets.pending('vm-ttl')).toBe(false);
    });
  });
}
