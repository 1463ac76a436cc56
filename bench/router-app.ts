import express, { type Express } from 'express';
import { createPasswordRouter, createServerPasswordRouter, PasswordService, signedProxyIdentity } from '../lib';
import { OWNERS, PROJECT_ID, PROXY_SECRET, SERVERS } from './fixtures';
import type { OpenBackend } from './backends';

/**
 * The host app as the README's quick start builds it: both routers sharing one service, with
 * helmet's default headers unless `withHelmet` is false.
 */
export function routerApp(backend: OpenBackend, withHelmet = true): Express {
  const service = new PasswordService({ store: backend.store });
  const app = express();
  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      ...(!withHelmet && { helmet: false as const }),
      authenticate: signedProxyIdentity({ secret: PROXY_SECRET }),
      lookupInstance: ({ principal }) => (principal.projectId === PROJECT_ID ? { id: principal.instanceId } : null),
    }),
  );
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter({
      service,
      ...(!withHelmet && { helmet: false as const }),
      authenticate: (req) => OWNERS.get(req.get('x-auth-token') ?? '') ?? null,
      lookupInstance: ({ principal, instanceId }) => {
        const server = instanceId === undefined ? undefined : SERVERS.get(instanceId);
        return server && server.projectId === principal.projectId ? { id: server.id } : null;
      },
    }),
  );
  return app;
}
