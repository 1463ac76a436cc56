import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener } from 'node:http';
import express, { type Express } from 'express';
import { CONFLICT_MESSAGE, GUEST_PATH, OWNERS, PROJECT_ID, PROXY_SECRET, SERVERS } from './fixtures';
import type { OpenBackend } from './backends';

/** The routers' default `maxBytes`. */
const MAX_BODY_BYTES = 1020;

/** The signed proxy check of `signedProxyIdentity`, as a user would write it: the instance id, or undefined. */
function signedInstance(headers: IncomingHttpHeaders): string | undefined {
  const id = headers['x-instance-id'];
  if (typeof id !== 'string' || headers['x-tenant-id'] !== PROJECT_ID) return undefined;
  const signature = Buffer.from(String(headers['x-instance-id-signature']));
  const expected = Buffer.from(createHmac('sha256', PROXY_SECRET).update(id).digest('hex'));
  return signature.length === expected.length && timingSafeEqual(signature, expected) ? id : undefined;
}

/** The same routes written by hand in Express 5: same store and auth checks, no headers, no validation. */
export function handWrittenApp(backend: OpenBackend): Express {
  const app = express();
  // The routers send no ETag (their answers are no-store), so this side does not hash bodies either.
  app.set('etag', false);

  app.get('/openstack/:version/password', async (req, res) => {
    const id = signedInstance(req.headers);
    if (!id) return void res.status(403).end();
    res.type('text/plain').send((await backend.read(id)) ?? '');
  });

  app.post('/openstack/:version/password', express.text({ type: '*/*' }), async (req, res) => {
    const id = signedInstance(req.headers);
    if (!id) return void res.status(403).end();
    if (await backend.setIfAbsent(id, req.body as string)) return void res.end();
    res.status(409).json({ error: { code: 'PASSWORD_ALREADY_SET', message: CONFLICT_MESSAGE } });
  });

  app.get('/compute/v2.1/servers/:serverId/os-server-password', async (req, res) => {
    const owner = OWNERS.get(req.get('x-auth-token') ?? '');
    if (!owner) return void res.status(401).end();
    const server = SERVERS.get(req.params.serverId);
    if (!server || server.projectId !== owner.projectId) return void res.status(404).end();
    res.json({ password: (await backend.read(server.id)) ?? '' });
  });

  return app;
}

/** Reads a request body of at most `limit` bytes as text; undefined when it is longer. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => resolve(length > limit ? undefined : Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

/** The guest GET and POST on bare node:http: the same work and answer bytes, without Express. */
export function nodeHttpListener(backend: OpenBackend): RequestListener {
  return async (req, res) => {
    const id = req.url === GUEST_PATH ? signedInstance(req.headers) : undefined;
    if (!id || (req.method !== 'GET' && req.method !== 'POST')) return void res.writeHead(404).end();
    if (req.method === 'POST') {
      const value = await readBody(req, MAX_BODY_BYTES);
      if (value === undefined) return void res.writeHead(413).end();
      if (await backend.setIfAbsent(id, value)) return void res.end();
      const conflict = JSON.stringify({ error: { code: 'PASSWORD_ALREADY_SET', message: CONFLICT_MESSAGE } });
      res.writeHead(409, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(conflict) });
      return void res.end(conflict);
    }
    const body = (await backend.read(id)) ?? '';
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}
