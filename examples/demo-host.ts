import { createHmac, randomBytes } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  MemoryStore,
  PasswordError,
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
  onEvent?: (event: PasswordEvent) => void;
}

export interface DemoHost {
  app: Express;
  service: PasswordService;
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
    for (const name of project.instances) instances.push({ id: INSTANCE_IDS[name], name, projectId: project.id, key });
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
    // Nova's policy: project readers may read, only members may clear or rebuild.
    if (action !== 'read' && principal.role !== 'member') {
      throw new PasswordError(403, 'FORBIDDEN', `A project ${principal.role} may not ${action} this password.`);
    }
    return { id: instance.id };
  };
  app.use('/compute/v2.1', createServerPasswordRouter({ service, authenticate: authenticateOwner, lookupInstance: ownerLookup }));
  // The host's rebuild action clears the password, so the rebuilt guest's agent can post its new one.
  app.post('/compute/v2.1/servers/:id/action', express.json(), async (req, res) => {
    const owner = authenticateOwner(req);
    if (!owner) {
      res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'Authentication is required.' } });
      return;
    }
    if (!req.body || typeof req.body !== 'object' || !('rebuild' in req.body)) {
      res.status(400).json({ error: { code: 'BAD_REQUEST', message: 'This demo only knows the rebuild action.' } });
      return;
    }
    try {
      const instance = ownerLookup({ principal: owner, instanceId: req.params.id, action: 'clear' });
      if (!instance) {
        res.status(404).json({ error: { code: 'INSTANCE_NOT_FOUND', message: 'No such instance.' } });
        return;
      }
      await service.clear(instance.id, { principalId: owner.id });
      res.status(202).end();
    } catch (error) {
      const failure = error instanceof PasswordError ? error : new PasswordError(500, 'INTERNAL', 'An internal error occurred.');
      res.status(failure.status).json({ error: { code: failure.code, message: failure.message } });
    }
  });

  // The owner console at `/`: pick a token, list servers, retrieve and decrypt in the page.
  app.use(createOwnerConsole({ tokens, instances, store, computePrefix: '/compute/v2.1' }));

  const guestHeaders = (instance: DemoInstance) => ({
    'X-Instance-ID': instance.id,
    'X-Tenant-ID': instance.projectId,
    'X-Instance-ID-Signature': createHmac('sha256', options.secret).update(instance.id).digest('hex'),
  });
  return { app, service, keyDir, instances, tokens, guestHeaders };
}
