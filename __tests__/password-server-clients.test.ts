import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PasswordResetService, type PasswordEvent } from '../lib';
import { createDemoHost } from '../examples/demo-host';
import {
  closeServer,
  describeWithClients,
  listenOn,
  listenOnPort8080,
  passwordServerApp,
  run,
  runPython,
} from './helpers/password-server-clients';
import { openRedisStore } from './helpers/store-backends';
import { describeWithRedis, REDIS_URL } from './helpers/services';

jest.setTimeout(120_000);

/** cloud-init's CloudStack datasource client, unchanged: it shells out to wget on `<address>:8080`. */
const CLOUDSTACK_CLIENT = `
import json, sys
from cloudinit.sources.DataSourceCloudStack import CloudStackPasswordServerClient
try:
    print(json.dumps({"password": CloudStackPasswordServerClient(sys.argv[1]).get_password()}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__}))
`;

/** cloud-init's Exoscale datasource password function, unchanged, on the port it is given. */
const EXOSCALE_CLIENT = `
import json, sys
from cloudinit.sources.DataSourceExoscale import get_password
retries = {} if sys.argv[2] == "default" else {"url_retries": int(sys.argv[2])}
try:
    print(json.dumps({"password": get_password(metadata_url="http://127.0.0.1", password_server_port=int(sys.argv[1]), **retries)}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__}))
`;

/** python-novaclient's servers.change_password (what \`nova set-password\` calls), with a token. */
const NOVACLIENT_CHANGE_PASSWORD = `
import json, sys
from keystoneauth1 import session, token_endpoint
from novaclient import client, exceptions
endpoint, token, server, password = sys.argv[1:5]
nova = client.Client("2.1", session=session.Session(auth=token_endpoint.Token(endpoint, token)), endpoint_override=endpoint)
try:
    nova.servers.change_password(server, password)
    print(json.dumps({"status": 202}))
except exceptions.ClientException as error:
    print(json.dumps({"status": error.code, "message": error.message}))
`;

/** Old cloud-init's request, as CloudStack documents it: wget with the header. */
function wget(url: string, word: string, bindAddress?: string) {
  const bind = bindAddress === undefined ? [] : [`--bind-address=${bindAddress}`];
  return run('wget', ['--quiet', '--tries', '3', '--timeout', '20', '--output-document', '-', '--header', `DomU_Request: ${word}`, ...bind, url]);
}

function recorded(): { events: PasswordEvent[]; onEvent: (event: PasswordEvent) => void } {
  const events: PasswordEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

describeWithClients()('the real agents against the password-server router', () => {
  const guests = new Map<string, string>();
  const { events, onEvent } = recorded();
  const resets = new PasswordResetService({ onEvent });
  const app = passwordServerApp(resets, guests);
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = await listenOn(app, 0, '127.0.0.1');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await closeServer(server);
  });
  beforeEach(() => {
    events.length = 0;
  });

  it("cloud-init's CloudStackPasswordServerClient fetches, acknowledges, then finds nothing (port 8080 of a free loopback address)", async () => {
    const listener = await listenOnPort8080(app);
    try {
      const instanceId = `vm-cloudstack-${randomBytes(4).toString('hex')}`;
      guests.set('127.0.0.1', instanceId);
      const password = await resets.reset(instanceId, { password: 'Pässwörd Ünïcode 9' });
      expect(JSON.parse(await runPython(CLOUDSTACK_CLIENT, [listener.address]))).toEqual({ password });
      expect(await resets.pending(instanceId)).toBe(false);
      expect(events.map(({ type }) => type)).toEqual(['reset.queued', 'reset.delivered', 'reset.applied']);
      // Nothing pending: the server says saved_password, which the client reads as "no password".
      expect(JSON.parse(await runPython(CLOUDSTACK_CLIENT, [listener.address]))).toEqual({ password: null });
      // A guest the host does not know gets 403 bad_request: wget fails, and so does the client.
      guests.clear();
      await resets.reset(instanceId);
      expect(JSON.parse(await runPython(CLOUDSTACK_CLIENT, [listener.address]))).toEqual({ error: 'ProcessExecutionError' });
      expect(await resets.pending(instanceId)).toBe(true);
    } finally {
      await closeServer(listener.server);
    }
  });

  it("cloud-init's Exoscale get_password fetches from /1.0/, acknowledges, then finds nothing", async () => {
    const instanceId = `vm-exoscale-${randomBytes(4).toString('hex')}`;
    guests.set('127.0.0.1', instanceId);
    const password = await resets.reset(instanceId);
    expect(JSON.parse(await runPython(EXOSCALE_CLIENT, [String(port), 'default']))).toEqual({ password });
    expect(await resets.pending(instanceId)).toBe(false);
    expect(JSON.parse(await runPython(EXOSCALE_CLIENT, [String(port), 'default']))).toEqual({ password: null });
    expect(events.map(({ type }) => type)).toEqual(['reset.queued', 'reset.delivered', 'reset.applied']);
    guests.clear();
    await resets.reset(instanceId, { password: 'correct horse battery 9' });
    expect(JSON.parse(await runPython(EXOSCALE_CLIENT, [String(port), '0']))).toEqual({ error: 'UrlError' });
    expect(await resets.pending(instanceId)).toBe(true);
  });

  it('wget with the header, as old cloud-init and CloudStack scripts ask: fetch, acknowledge, nothing pending', async () => {
    const instanceId = `vm-wget-${randomBytes(4).toString('hex')}`;
    guests.set('127.0.0.1', instanceId);
    const password = await resets.reset(instanceId);
    const url = `127.0.0.1:${port}`;
    expect(await wget(url, 'send_my_password')).toEqual({ code: 0, stdout: password });
    expect(await wget(url, 'send_my_password')).toEqual({ code: 0, stdout: password });
    expect(await wget(url, 'saved_password')).toEqual({ code: 0, stdout: 'saved_password' });
    expect(await wget(url, 'send_my_password')).toEqual({ code: 0, stdout: 'saved_password' });
    expect(await resets.pending(instanceId)).toBe(false);
    // wget exits 8 on an error answer (here 400 bad_request for an unknown word).
    expect((await wget(url, 'save_password')).code).toBe(8);
  });
});

describeWithClients()("python-novaclient's change_password against the demo's action route", () => {
  const keyDir = mkdtempSync(join(tmpdir(), 'mdpw-reset-clients-'));
  const demo = createDemoHost({ secret: 'password-server-clients-secret', keyDir });
  const [web] = demo.instances;
  const tokenOf = (role: 'reader' | 'member') =>
    [...demo.tokens].find(([, owner]) => owner.projectId === web.projectId && owner.role === role)?.[0] as string;
  let api: Server;
  let passwordServer: Server;
  let endpoint: string;
  let passwordUrl: string;

  beforeAll(async () => {
    api = await listenOn(demo.app, 0, '127.0.0.1');
    passwordServer = await listenOn(demo.passwordServer, 0, '127.0.0.1');
    endpoint = `http://127.0.0.1:${(api.address() as AddressInfo).port}/compute/v2.1`;
    passwordUrl = `127.0.0.1:${(passwordServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await closeServer(api);
    await closeServer(passwordServer);
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('a member sets a password; the guest fetches it with wget from its own address and acknowledges it', async () => {
    const password = `Owner-${randomBytes(6).toString('hex')}`;
    expect(JSON.parse(await runPython(NOVACLIENT_CHANGE_PASSWORD, [endpoint, tokenOf('member'), web.id, password]))).toEqual({ status: 202 });
    expect(await demo.resets.pending(web.id)).toBe(true);
    expect(await wget(passwordUrl, 'send_my_password', web.address)).toEqual({ code: 0, stdout: password });
    expect(await wget(passwordUrl, 'saved_password', web.address)).toEqual({ code: 0, stdout: 'saved_password' });
    expect(await wget(passwordUrl, 'send_my_password', web.address)).toEqual({ code: 0, stdout: 'saved_password' });
    expect(await demo.resets.pending(web.id)).toBe(false);
  });

  it('a reader, an invalid password and another project are refused with what novaclient shows', async () => {
    const reader = JSON.parse(await runPython(NOVACLIENT_CHANGE_PASSWORD, [endpoint, tokenOf('reader'), web.id, 'Reader-Passw0rd']));
    expect(reader).toEqual({ status: 403, message: expect.stringContaining('may not reset') });
    const short = JSON.parse(await runPython(NOVACLIENT_CHANGE_PASSWORD, [endpoint, tokenOf('member'), web.id, 'short']));
    expect(short).toEqual({ status: 400, message: expect.stringContaining('8 to 127 characters') });
    const other = demo.instances.find((instance) => instance.projectId !== web.projectId)!;
    const foreign = JSON.parse(await runPython(NOVACLIENT_CHANGE_PASSWORD, [endpoint, tokenOf('member'), other.id, 'Foreign-Passw0rd']));
    expect(foreign).toEqual({ status: 404, message: 'No such instance.' });
    expect(await demo.resets.pending(web.id)).toBe(false);
    expect(await demo.resets.pending(other.id)).toBe(false);
  });
});

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
      const opened = await openRedisStore('reset-shared');
      const key = randomBytes(32).toString('base64');
      const instanceId = `vm-shared-${randomBytes(4).toString('hex')}`;
      const { store } = opened;
      let second: ChildProcess | undefined;
      try {
        const started = await startSecondProcess({ DIST: dist, REDIS_URL, PREFIX: store.prefix, KEY: key, INSTANCE: instanceId });
        second = started.child;
        const events: PasswordEvent[] = [];
        const here = new PasswordResetService({ store, encryptionKey: key, onEvent: (event) => events.push(event) });
        const password = await here.reset(instanceId);
        expect(JSON.parse(await runPython(EXOSCALE_CLIENT, [String(started.port), 'default']))).toEqual({ password });
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
