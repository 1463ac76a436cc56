import { Router, type Request, type Response } from 'express';
import { param } from 'express-validator';
import { passwordError } from './errors';
import { isServerId, SERVER_ID_RULE } from './server-id';
import { sendEmpty, sendJson } from './responses';
import { routerService } from './router-options';
import { RouteKit, type RequestContext } from './route-kit';
import { peekValue } from './service';
import type { Principal, ServerPasswordRouterOptions } from './types';

const WHERE = 'createServerPasswordRouter()';
const ALLOW = 'GET, HEAD, DELETE';

/** The challenge sent with 401: OpenStack clients authenticate with `X-Auth-Token`. */
const CHALLENGE = 'Bearer realm="compute"';

function hasQuery(req: Request): boolean {
  const start = req.originalUrl.indexOf('?');
  return start !== -1 && start < req.originalUrl.length - 1;
}

/**
 * The owner-facing router: `GET` and `DELETE` of `/servers/:serverId/os-server-password`, as Nova's
 * compute API serves them. Mount it under the compute API prefix:
 * `app.use('/compute/v2.1', router)`. Other paths under the mount are left to the host.
 */
export function createServerPasswordRouter<P extends Principal = Principal>(
  options: ServerPasswordRouterOptions<P>,
): Router {
  const service = routerService(WHERE, options, [], ['store', 'onEvent'], true);
  const kit = new RouteKit<P>({
    ...options,
    service,
    where: WHERE,
    unauthenticated: () => passwordError('UNAUTHENTICATED', 'Authentication is required.'),
  });
  const serverIdCheck = param('serverId').custom((value: string) => isServerId(value));

  async function handleServerPassword(req: Request, res: Response, context: RequestContext): Promise<void> {
    if (!(await serverIdCheck.run(req)).isEmpty()) {
      throw passwordError(
        'BAD_REQUEST',
        `The server id must be ${SERVER_ID_RULE}.`,
      );
    }
    const action = req.method === 'DELETE' ? 'clear' : req.method === 'GET' || req.method === 'HEAD' ? 'read' : undefined;
    if (action === undefined) {
      res.setHeader('Allow', ALLOW);
      throw passwordError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${ALLOW}.`);
    }
    if (hasQuery(req)) throw passwordError('BAD_REQUEST', 'This resource takes no query parameters.');
    const serverId = String(req.params.serverId);
    context.instanceId = serverId;
    let id: string;
    try {
      id = await kit.resolveInstance(req, res, context, action, serverId);
    } catch (error) {
      if ((error as { status?: unknown }).status === 401) res.setHeader('WWW-Authenticate', CHALLENGE);
      throw error;
    }
    if (action === 'clear') {
      await service.clear(id, context);
      sendEmpty(req, res, 204);
      return;
    }
    const value = req.method === 'GET' ? await service.get(id, context) : await service[peekValue](id, context);
    sendJson(req, res, 200, { password: value ?? '' });
  }

  const router = Router({ caseSensitive: true });
  router.all('/servers/:serverId/os-server-password', kit.handle(handleServerPassword));
  return router;
}
