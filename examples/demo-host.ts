import { createHmac, randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { body, matchedData, oneOf, validationResult } from 'express-validator';
import {
  createPasswordRouter,
  createPasswordServerRouter,
  createServerPasswordRouter,
  MemoryStore,
  PasswordError,
  PasswordResetService,
  PasswordService,
  signedProxyIdentity,
  type PasswordEvent,
  type PasswordStore,
} from '../lib';
import { createPasswordMetrics } from '../lib/metrics';
import { makeDemoKey, privateKeyDir, type DemoKey } from './demo-keys';
import { createOwnerConsole } from './owner-console';

export type { DemoKey } from './demo-keys';

export interface DemoInstance {
  id: string;
  name: string;
  projectId: string;
  key: DemoKey;
  /** The guest's address on the demo's guest network, which the password server identifies it by. */
  address: string;
}

export interface DemoOwner {
  id: string;
  projectId: string;
  role: 'reader' | 'member';
}

export interface DemoHostOptions {
  /** Signs guest requests, as Nova's metadata proxy does. */
  secret: string;
  /**
   * Where the owners' key pairs are written: a private directory of this user's (created 0700 when
   * missing, refused when others can reach it). Default: a fresh one under the temp dir.
   */
  keyDir?: string;
  store?: PasswordStore;
  /** Where owner-set passwords wait for the guest. Default: one on a `MemoryStore`. */
  resets?: PasswordResetService;
  onEvent?: (event: PasswordEvent) => void;
}

export interface DemoHost {
  app: Express;
  /** CloudStack's password server for owner-set passwords: serve it on its own port (8080). */
  passwordServer: Express;
  service: PasswordService;
  resets: PasswordResetService;
  /** The directory holding the owners' key files. */
  keyDir: string;
  instances: DemoInstance[];
  /** Bearer tokens (`X-Auth-Token`) by owner. */
  tokens: Map<string, DemoOwner>;
  /** The signed proxy headers a guest of `instance` sends. */
  guestHeaders(instance: DemoInstance): Record<string, string>;
}

const PROJECTS = [
  { id: 'demo-a', owner: 'alice', instances: ['web-1', 'db-1'] },
  { id: 'demo-b', owner: 'bob', instances: ['app-1'] },
];
// The guests' addresses: loopback addresses a local client can send from (curl --interface).
const ADDRESSES: Record<string, string> = { 'web-1': '127.0.0.11', 'db-1': '127.0.0.12', 'app-1': '127.0.0.13' };
const INSTANCE_IDS: Record<string, string> = {
  'web-1': '0b1f6d2e-5c4a-4e8b-9f3d-2a7c1e6b4d01',
  'db-1': '6e3a9c1d-2b7f-4d5e-8a0c-9f1e3b5d7a02',
  'app-1': 'c4d2e8f0-1a3b-4c5d-9e7f-0a2b4c6d8e03',
};

function bearerOwner(tokens: Map<string, DemoOwner>) {
  return (req: Request): DemoOwner | null => tokens.get(req.get('x-auth-token') ?? '') ?? null;
}

/**
 * A small host app: a metadata API under `/openstack` (guests identified by signed proxy headers)
 * and a compute API under `/compute/v2.1` (owners by `X-Auth-Token`), sharing one PasswordService.
 */
export function createDemoHost(options: DemoHostOptions): DemoHost {
  const keyDir = privateKeyDir(options.keyDir);
  const instances: DemoInstance[] = [];
  const tokens = new Map<string, DemoOwner>();
  for (const project of PROJECTS) {
    const key = makeDemoKey(keyDir, project.owner);
    for (const name of project.instances) instances.push({ id: INSTANCE_IDS[name], name, projectId: project.id, key, address: ADDRESSES[name] });
    for (const role of ['reader', 'member'] as const) {
      tokens.set(`${role}-${project.id}-${randomBytes(6).toString('hex')}`, { id: `${project.owner}-${role}`, projectId: project.id, role });
    }
  }
  const byId = new Map(instances.map((instance) => [instance.id, instance]));
  const metrics = createPasswordMetrics();
  const onEvent = (event: PasswordEvent) => {
    options.onEvent?.(event);
    metrics.onEvent(event);
  };
  const store = options.store ?? new MemoryStore();
  const service = new PasswordService({ store, onEvent });
  const resets = options.resets ?? new PasswordResetService({ onEvent });
  const authenticateGuest = signedProxyIdentity({ secret: options.secret });
  const authenticateOwner = bearerOwner(tokens);
  const app = express();
  // Prometheus scrapes the password metrics here; a real host serves them on an internal port.
  app.get('/metrics', (_req, res, next) => {
    metrics.registry.metrics().then((text) => res.type(metrics.registry.contentType).send(text), next);
  });

  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      authenticate: authenticateGuest,
      lookupInstance: ({ principal }) => {
        const instance = byId.get(principal.instanceId);
        return instance && instance.projectId === principal.projectId ? { id: instance.id } : null;
      },
    }),
  );
  // The host's own metadata, under the same prefix: cloudbase-init reads the public key here.
  app.get('/openstack/:version/meta_data.json', async (req, res) => {
    try {
      const principal = await authenticateGuest(req);
      const instance = principal && byId.get(principal.instanceId);
      if (!instance) {
        res.status(404).json({ error: { code: 'INSTANCE_NOT_FOUND', message: 'No such instance.' } });
        return;
      }
      res.json({ uuid: instance.id, name: instance.name, project_id: instance.projectId, public_keys: { [instance.key.name]: instance.key.sshPublicKey } });
    } catch (error) {
      const status = error instanceof PasswordError ? error.status : 500;
      res.status(status).json({ error: { code: 'FORBIDDEN', message: 'Invalid proxy request.' } });
    }
  });

  const ownerLookup = ({ principal, instanceId, action }: { principal: DemoOwner; instanceId: string | undefined; action: string }) => {
    const instance = instanceId === undefined ? undefined : byId.get(instanceId);
    if (!instance || instance.projectId !== principal.projectId) return null;
    // Nova's policy: project readers may read, only members may clear, rebuild or reset.
    if (action !== 'read' && principal.role !== 'member') {
      throw new PasswordError(403, 'FORBIDDEN', `A project ${principal.role} may not ${action} this password.`);
    }
    return { id: instance.id };
  };
  app.use('/compute/v2.1', createServerPasswordRouter({ service, authenticate: authenticateOwner, lookupInstance: ownerLookup }));
  // The host's server actions: rebuild clears the password, so the rebuilt guest's agent can post
  // its new one; changePassword (`nova set-password`, novaclient's `servers.change_password`) queues
  // an owner-set password for the password server.
  app.post(
    '/compute/v2.1/servers/:id/action',
    express.json(),
    oneOf([body('rebuild').exists(), body('changePassword.adminPass').isString()], {
      message: 'Send {"rebuild": {...}} or {"changePassword": {"adminPass": "..."}}.',
    }),
    async (req: Request, res: Response) => {
      try {
        const owner = authenticateOwner(req);
        if (!owner) throw new PasswordError(401, 'UNAUTHENTICATED', 'Authentication is required.');
        const errors = validationResult(req);
        if (!errors.isEmpty()) throw new PasswordError(400, 'BAD_REQUEST', String(errors.array()[0].msg));
        const action = 'rebuild' in req.body ? 'rebuild' : 'reset';
        const instance = ownerLookup({ principal: owner, instanceId: String(req.params.id), action });
        if (!instance) throw new PasswordError(404, 'INSTANCE_NOT_FOUND', 'No such instance.');
        if (action === 'rebuild') await service.clear(instance.id, { principalId: owner.id });
        else {
          const { changePassword } = matchedData(req) as { changePassword: { adminPass: string } };
          await resets.reset(instance.id, { password: changePassword.adminPass }, { principalId: owner.id });
        }
        res.status(202).end();
      } catch (error) {
        const failure = error instanceof PasswordError ? error : new PasswordError(500, 'INTERNAL', 'An internal error occurred.');
        res.status(failure.status).json({ error: { code: failure.code, message: failure.message } });
      }
    },
  );

  // CloudStack's password server, on a listener of its own. The guest is who its source address
  // says: safe only where the guest network drops spoofed addresses.
  const byAddress = new Map(instances.map((instance) => [instance.address, instance]));
  const passwordServer = express();
  passwordServer.use(
    createPasswordServerRouter({
      resets,
      authenticate: (req) => byAddress.get(req.socket.remoteAddress ?? '') ?? null,
      lookupInstance: ({ principal }) => ({ id: principal.id }),
    }),
  );

  // The owner console at `/`: pick a token, list servers, retrieve and decrypt in the page.
  app.use(createOwnerConsole({ tokens, instances, store, computePrefix: '/compute/v2.1' }));

  const guestHeaders = (instance: DemoInstance) => ({
    'X-Instance-ID': instance.id,
    'X-Tenant-ID': instance.projectId,
    'X-Instance-ID-Signature': createHmac('sha256', options.secret).update(instance.id).digest('hex'),
  });
  return { app, passwordServer, service, resets, keyDir, instances, tokens, guestHeaders };
}
