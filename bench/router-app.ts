import express, { type Express } from 'express';
import { createPasswordRouter, createServerPasswordRouter, PasswordService, signedProxyIdentity } from '../lib';
import { INSTANCE_PUBLIC_KEY, OWNERS, PROJECT_ID, PROXY_SECRET, SERVERS } from './fixtures';
import type { OpenBackend } from './backends';

/** Variants of the router app. */
export interface RouterAppOptions {
  /** The routers' default security headers; `false` for `helmet: false`. */
  readonly helmet: boolean;
  /** Whether the guest `lookupInstance` gives the instance's `publicKey`, checked on every POST. */
  readonly publicKey: boolean;
}

/**
 * The host app as the README's quick start builds it: both routers sharing one service, with the
 * default security headers unless `helmet` is false.
 */
export function routerApp(backend: OpenBackend, { helmet, publicKey }: RouterAppOptions): Express {
  const service = new PasswordService({ store: backend.store });
  const app = express();
  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      ...(!helmet && { helmet: false as const }),
      authenticate: signedProxyIdentity({ secret: PROXY_SECRET }),
      lookupInstance: ({ principal }) =>
        principal.projectId !== PROJECT_ID
          ? null
          : publicKey
            ? { id: principal.instanceId, publicKey: INSTANCE_PUBLIC_KEY }
            : { id: principal.instanceId },
    }),
  );
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter({
      service,
      ...(!helmet && { helmet: false as const }),
      authenticate: (req) => OWNERS.get(req.get('x-auth-token') ?? '') ?? null,
      lookupInstance: ({ principal, instanceId }) => {
        const server = SERVERS.get(instanceId);
        return server && server.projectId === principal.projectId ? { id: server.id } : null;
      },
    }),
  );
  return app;
}
