import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PasswordResetService, type PasswordEvent, type PasswordStore } from '../lib';
import { describeWithClients, runPython } from './helpers/password-server-clients';
import { openPostgresStore, openRedisStore, type OpenedStore } from './helpers/store-backends';
import { describeWithPostgres, describeWithRedis, REDIS_URL } from './helpers/services';

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

/** The second process: the password-server router from the built package, on the same Redis. */
const SECOND_PROCESS = `
const express = require('express');
const Redis = require('ioredis');
const { PasswordResetService, createPasswordServerRouter } = require(process.env.DIST + '/lib');
const { RedisStore } = require(process.env.DIST + '/lib/stores/redis');
const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
const resets = new PasswordResetService({
  store: new RedisStore({ client, prefix: process.env.PREFIX }),
  encryptionKey: process.env.KEY,
  onEvent: (event) => process.stderr.write(event.type + '\\n'),
});
const app = express();
app.use(createPasswordServerRouter({
  resets,
  authenticate: (req) => (req.socket.remoteAddress === '127.0.0.1' ? { instanceId: process.env.INSTANCE } : null),
  lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
}));
client.once('ready', () => {
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
});
`;

const EXOSCALE_CLIENT = `
import json, sys
from cloudinit.sources.DataSourceExoscale import get_password
print(json.dumps({"password": get_password(metadata_url="http://127.0.0.1", password_server_port=int(sys.argv[1]))}))
`;

/** Starts the second process; resolves it and its port once it listens. */
function startSecondProcess(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; events: string[] }> {
  const child = spawn(process.execPath, ['-e', SECOND_PROCESS], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => events.push(...chunk.split('\n').filter(Boolean)));
  return new Promise((resolvePort, reject) => {
    child.stdout?.setEncoding('utf8').once('data', (chunk: string) => resolvePort({ child, port: Number(chunk.trim()), events }));
    child.once('exit', (code) => reject(new Error(`the second process exited ${String(code)}: ${events.join(' | ')}`)));
  });
}

describeWithRedis('two processes sharing Redis', () => {
  const dist = resolve(__dirname, '..', 'dist');

  describeWithClients()('with the real agent', () => {
    it('a reset queued on one is delivered to cloud-init (Exoscale) and acknowledged through the other', async () => {
      if (!existsSync(`${dist}/lib/index.js`)) throw new Error('run `npm run build` first: the second process loads dist/.');
      const { opened } = await backends[0].open();
      const key = randomBytes(32).toString('base64');
      const instanceId = `vm-shared-${randomBytes(4).toString('hex')}`;
      const store = opened.store as PasswordStore & { prefix: string };
      let second: ChildProcess | undefined;
      try {
        const started = await startSecondProcess({ DIST: dist, REDIS_URL, PREFIX: store.prefix, KEY: key, INSTANCE: instanceId });
        second = started.child;
        const events: PasswordEvent[] = [];
        const here = new PasswordResetService({ store, encryptionKey: key, onEvent: (event) => events.push(event) });
        const password = await here.reset(instanceId);
        expect(JSON.parse(await runPython(EXOSCALE_CLIENT, [String(started.port)]))).toEqual({ password });
        expect(await here.pending(instanceId)).toBe(false);
        expect(events.map(({ type }) => type)).toEqual(['reset.queued']);
        // The second process reports its events on stderr, which may arrive a moment after the answer.
        for (let waited = 0; started.events.length < 2 && waited < 5000; waited += 50) await new Promise((done) => setTimeout(done, 50));
        expect(started.events).toEqual(['reset.delivered', 'reset.applied']);
      } finally {
        second?.kill();
        await opened.close();
      }
    });
  });
});
