import { Router, type Request, type Response } from 'express';
import { Access, type RequestState } from './access';
import { Answers, sendEmpty, sendJson } from './answers';
import { passwordError } from '../core/errors';
import { actionOf, methodTable, readPassword } from './methods';
import { createRateLimiter } from './rate-limit';
import { PasswordWaits, parseWaitLimits } from './prefer-wait';
import { parseRouterOptions } from './router-options';
import { SERVER_ID_RULE } from '../core/server-id';
import { serverIdCheck } from './server-id-check';
import type { PasswordService } from '../core/service';
import type { OwnerAction, OwnerLookupContext, Principal, RouterOptionsBase } from '../types';

/** Options of `createServerPasswordRouter(...)`, the owner-facing router. */
export interface ServerPasswordRouterOptions<P extends Principal = Principal>
  extends RouterOptionsBase<P, OwnerLookupContext<P>> {
  /** The `PasswordService` the guest router writes to. Required. */
  readonly service: PasswordService;
  /**
   * The longest a GET with `Prefer: wait=N` is held waiting for the guest's password, in seconds,
   * 1 to 3600: a longer N is cut to it. Default 60.
   */
  readonly maxWait?: number;
  /**
   * How many GETs this router holds waiting at a time (each holds a connection and a little
   * memory); past it a GET is answered at once, without `Preference-Applied`. Default 1000.
   */
  readonly maxWaiters?: number;
}

const WHERE = 'createServerPasswordRouter()';
const METHODS = methodTable<OwnerAction>({ GET: 'read', HEAD: 'read', DELETE: 'clear' });
// `/servers/:serverId/os-server-password`, case-sensitive, with an optional trailing slash.
const PASSWORD_PATH = /^\/servers\/([^/]+)\/os-server-password\/?$/;
const BAD_SERVER_ID = passwordError('BAD_REQUEST', `The server id must be ${SERVER_ID_RULE}.`);
const QUERY = passwordError('BAD_REQUEST', 'This resource takes no query parameters.');

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
  const config = parseRouterOptions(WHERE, options, ['maxWait', 'maxWaiters'], 'required');
  const waits = new PasswordWaits(parseWaitLimits(WHERE, options));
  const { service, log } = config;
  const answers = new Answers(config);
  const access = new Access<P, OwnerLookupContext<P>>({
    ...config,
    limiter: config.rateLimit && createRateLimiter(config.rateLimit, log),
    unauthenticated: () => passwordError('UNAUTHENTICATED', 'Authentication is required.'),
  });
  const validServerId = serverIdCheck();

  async function handle(req: Request, res: Response, request: RequestState): Promise<void> {
    if (!(await validServerId(req))) throw BAD_SERVER_ID;
    const action = actionOf(req, res, METHODS);
    if (hasQuery(req)) throw QUERY;
    const instanceId = String(req.params.serverId);
    request.instanceId = instanceId;
    const principal = await access.principal(req, request).catch((error: unknown) => {
      if ((error as { status?: unknown }).status === 401) res.setHeader('WWW-Authenticate', CHALLENGE);
      throw error;
    });
    const instance = await access.instance(request, { principal, instanceId, action, req });
    // Per caller and instance, so one project reader cannot lock the members out.
    await access.limit(req, res, request, `${request.principalId ?? ''}\n${instance.id}`);
    if (action === 'clear') {
      await service.clear(instance.id, request);
      sendEmpty(req, res, 204);
      return;
    }
    let password = await readPassword(service, req, instance.id, request);
    if (password === undefined && req.method === 'GET') password = await waits.wait(service, req, res, instance.id, request);
    sendJson(req, res, 200, { password: password ?? '' });
  }

  const router = Router();
  router.use(answers.route(PASSWORD_PATH, ['serverId'], handle));
  return router;
}
