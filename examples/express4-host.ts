/**
 * An existing metadata API host, as a platform engineer writes one, with instance passwords added.
 *
 * The host already has: global body parsers and a request logger, Keystone-like token auth on the
 * compute API (`req.auth`), the metadata routes `meta_data.json` and `user_data` behind Neutron's
 * signed metadata proxy, a server action route, and an error handler answering in Nova's fault
 * shape. Adding passwords takes one `PasswordService` (on Redis when `REDIS_URL` is set), two
 * routers, and a `service.clear` in the rebuild action.
 *
 * Runs on Express 4 and 5. Build and start it with:
 *   npm run build && METADATA_PROXY_SECRET=$(openssl rand -hex 32) node dist/examples/express4-host.js
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import Redis from 'ioredis';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  exceptPasswordRoutes,
  PASSWORD_VERSIONS,
  PasswordError,
  PasswordService,
  signedProxyIdentity,
  type PasswordEvent,
} from 'express-metadata-password';
import { RedisStore } from 'express-metadata-password/redis';

/** What the host's token middleware puts on `req.auth`: Keystone's answer for a valid token. */
export interface KeystoneAuth {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- how Express's Request is extended
  namespace Express {
    interface Request {
      /** Set by the host's token middleware for a valid `X-Auth-Token`. */
      auth?: KeystoneAuth;
    }
  }
}

/** A server as the host's compute database knows it. */
export interface Server {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
  /** The public half of the server's keypair (`ssh-rsa ...` line or PEM). */
  readonly publicKey?: string;
  readonly userData?: string;
}

/** The host's own services, which the password routes reuse. */
export interface HostOptions {
  /** Neutron's `metadata_proxy_shared_secret`. */
  readonly proxySecret: string;
  /** The compute database: a server by id. */
  readonly findServer: (id: string) => Promise<Server | undefined>;
  /** Keystone: a token's user, project and roles, or `undefined` for an invalid token. */
  readonly validateToken: (token: string) => Promise<KeystoneAuth | undefined>;
  /** Redis for the passwords, e.g. `process.env.REDIS_URL`; unset: the embedded store (one process). */
  readonly redisUrl?: string;
  /** The Redis key prefix. Default `'mdpw:'`. */
  readonly redisPrefix?: string;
  /** The audit sink. Default: one log line per event. */
  readonly onEvent?: (event: PasswordEvent) => void;
  /** Where the request logger writes. Default `console.log`. */
  readonly log?: (line: string) => void;
}

export interface Host {
  readonly app: Express;
  readonly service: PasswordService;
  /** Closes what the host opened (the Redis connection). */
  close(): Promise<void>;
}

/** Express 4 does not catch a rejected handler: pass the rejection to the error handler. */
const asyncRoute =
  (handler: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

/** The host's own errors, shaped as http-errors and body-parser make theirs. */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  408: 'badRequest',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  503: 'serviceUnavailable',
};

/** The host's error shape, Nova's: `{"itemNotFound": {"code": 404, "message": "..."}}`. */
function novaFault(status: number, message: string): object {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
}

/** The host's Keystone middleware: a valid `X-Auth-Token` puts the caller on `req.auth`. */
function tokenAuth(validateToken: HostOptions['validateToken']): RequestHandler {
  return (req, _res, next) => {
    const token = req.get('x-auth-token');
    if (!token) {
      next();
      return;
    }
    validateToken(token).then((auth) => {
      req.auth = auth;
      next();
    }, next);
  };
}

/** Connects to Redis as the package's README recommends: fail at once while down, never resend. */
async function connectRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${url}: ${(error as Error).message}`);
  }
  // Once up, ioredis reconnects on its own; requests meanwhile answer 503 STORE_UNAVAILABLE.
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  return client;
}

/** Builds the host app; with `redisUrl`, resolves once Redis answers and rejects when it does not. */
export async function createHost(options: HostOptions): Promise<Host> {
  const { findServer, validateToken } = options;
  const log = options.log ?? console.log;
  const redis = options.redisUrl ? await connectRedis(options.redisUrl) : undefined;
  const service = new PasswordService({
    store: redis && new RedisStore({ client: redis, prefix: options.redisPrefix }),
    onEvent: options.onEvent ?? ((event) => log(`audit ${JSON.stringify(event)}`)),
  });
  const proxyIdentity = signedProxyIdentity({ secret: options.proxySecret });
  const errorBody = (error: PasswordError) => novaFault(error.status, error.message);

  const app = express();
  app.disable('x-powered-by');

  // The request logger: method, path, status and time, never a body.
  app.use((req, res, next) => {
    const started = Date.now();
    res.on('finish', () => log(`${req.method} ${req.originalUrl} ${res.statusCode} ${Date.now() - started}ms`));
    next();
  });
  app.use(express.json());
  // Keeps the form parser off the password route, whose body is the agent's ciphertext. A plain
  // global `app.use(express.urlencoded(...))` also works while the service's format is 'base64'
  // (the router recovers the ciphertext exactly), but not with `format: 'text'`.
  app.use(exceptPasswordRoutes(express.urlencoded({ extended: false })));

  // --- The metadata API (reached through Neutron's signed metadata proxy) ---------------------
  /** The server a signed proxy request speaks for, checked against the project the proxy names. */
  async function proxiedServer(req: Request): Promise<Server | undefined> {
    const principal = await proxyIdentity(req); // throws 400/403 PasswordErrors
    if (!principal) return undefined;
    const server = await findServer(principal.instanceId);
    return server?.projectId === principal.projectId ? server : undefined;
  }
  // The host's metadata versions; here, the ones Nova serves passwords on.
  const knownVersion = (req: Request) => PASSWORD_VERSIONS.includes(String(req.params.version));

  app.get(
    '/openstack/:version/meta_data.json',
    asyncRoute(async (req, res) => {
      const server = knownVersion(req) ? await proxiedServer(req) : undefined;
      if (!server) throw httpError(404, 'Not found.');
      res.json({ uuid: server.id, name: server.name, project_id: server.projectId, hostname: server.name });
    }),
  );
  app.get(
    '/openstack/:version/user_data',
    asyncRoute(async (req, res) => {
      const server = knownVersion(req) ? await proxiedServer(req) : undefined;
      if (server?.userData === undefined) throw httpError(404, 'Not found.');
      res.type('application/octet-stream').send(server.userData);
    }),
  );
  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      authenticate: proxyIdentity,
      lookupInstance: async ({ principal }) => {
        const server = await findServer(principal.instanceId);
        if (server?.projectId !== principal.projectId) return null;
        // With the keypair, only a ciphertext made for it is accepted.
        return { id: server.id, publicKey: server.publicKey };
      },
      errorBody,
    }),
  );

  // --- The compute API (Keystone tokens) --------------------------------------------------------
  app.use('/compute/v2.1', tokenAuth(validateToken));
  app.use(
    '/compute/v2.1',
    // The explicit <KeystoneAuth>: with lookupInstance written before authenticate, TypeScript would
    // otherwise infer the principal as `object`.
    createServerPasswordRouter<KeystoneAuth>({
      service,
      lookupInstance: async ({ principal, instanceId, action }) => {
        const server = await findServer(instanceId);
        if (server?.projectId !== principal.projectId) return null; // 404, also for "not yours"
        if (action === 'clear' && !principal.roles.includes('member')) {
          throw new PasswordError(403, 'FORBIDDEN', 'Only project members may clear a password.');
        }
        return { id: server.id };
      },
      authenticate: (req) => req.auth,
      principalId: (auth) => auth.userId,
      errorBody,
    }),
  );
  app.post(
    '/compute/v2.1/servers/:id/action',
    asyncRoute(async (req, res) => {
      const auth = req.auth;
      if (!auth) throw httpError(401, 'Authentication is required.');
      const server = await findServer(String(req.params.id));
      if (server?.projectId !== auth.projectId) throw httpError(404, 'Server not found.');
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || !('rebuild' in body)) {
        throw httpError(400, 'Unsupported action.');
      }
      // ... the host's own rebuild: new image, same id ...
      // The rebuilt guest's agent generates and posts a new password: forget the old one.
      await service.clear(server.id, { principalId: auth.userId });
      res.status(202).json({ server: { id: server.id, status: 'REBUILD' } });
    }),
  );

  // --- The host's error handler, last -------------------------------------------------------------
  const errorHandler: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, expose, message } = error as { status?: unknown; expose?: unknown; message?: unknown };
    const code = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
    // Exposed: the host's own errors, body-parser's, and the PasswordErrors that signedProxyIdentity
    // and PasswordService throw. Anything else is logged, and answered without its message.
    const known = error instanceof PasswordError || (expose === true && code < 500);
    if (!known) log(`error ${req.method} ${req.originalUrl}: ${(error as Error)?.name}: ${String(message)}`);
    if (error instanceof PasswordError && error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
    res.status(code).json(novaFault(code, known ? String(message) : 'An unexpected error occurred.'));
  };
  app.use(errorHandler);

  return {
    app,
    service,
    async close() {
      await redis?.quit();
    },
  };
}

/** Run directly: sample data standing in for the compute database and Keystone. */
async function main(): Promise<void> {
  const proxySecret = process.env.METADATA_PROXY_SECRET;
  if (!proxySecret) {
    console.error('Set METADATA_PROXY_SECRET (e.g. `openssl rand -hex 32`), the metadata proxy shared secret.');
    process.exitCode = 1;
    return;
  }
  const servers = new Map<string, Server>([
    ['9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', { id: '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', name: 'web-1', projectId: 'demo' }],
  ]);
  const memberToken = process.env.DEMO_TOKEN ?? randomUUID();
  const tokens = new Map<string, KeystoneAuth>([[memberToken, { userId: 'alice', projectId: 'demo', roles: ['member'] }]]);
  const host = await createHost({
    proxySecret,
    findServer: async (id) => servers.get(id),
    validateToken: async (token) => tokens.get(token),
    redisUrl: process.env.REDIS_URL,
  });
  const server = host.app.listen(Number(process.env.PORT ?? 8775), process.env.HOST ?? '127.0.0.1', () => {
    const { address, port } = server.address() as AddressInfo;
    console.log(`metadata API on http://${address}:${port} (${process.env.REDIS_URL ? 'Redis' : 'embedded store'})`);
    console.log(`server ${[...servers.keys()][0]} of project demo; X-Auth-Token of alice (member): ${memberToken}`);
  });
  const stop = () => server.close(() => void host.close());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
