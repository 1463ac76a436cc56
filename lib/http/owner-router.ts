import type { Request, Router } from 'express';
import { passwordRouter, sendEmpty, sendJson, type PasswordRouteHandler } from './answers';
import { passwordError } from '../core/errors';
import { actionOf, methodTable, readPassword } from './methods';
import { optionNames } from '../core/options';
import { OWNER_PASSWORD_PATH } from './paths';
import { PasswordWaits, parseWaitLimits } from './prefer-wait';
import { parseRouterOptions } from './router-options';
import { isServerId, SERVER_ID_RULE } from '../core/server-id';
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
const OPTION_NAMES = optionNames<ServerPasswordRouterOptions>({
  authenticate: true,
  lookupInstance: true,
  service: true,
  logger: true,
  helmet: true,
  principalId: true,
  rateLimit: true,
  errorBody: true,
  maxWait: true,
  maxWaiters: true,
});
const METHODS = methodTable<OwnerAction>({ GET: 'read', HEAD: 'read', DELETE: 'clear' });
const BAD_SERVER_ID = passwordError('BAD_REQUEST', `The server id must be ${SERVER_ID_RULE}.`);
const QUERY = passwordError('BAD_REQUEST', 'This resource takes no query parameters.');
const UNAUTHENTICATED = passwordError('UNAUTHENTICATED', 'Authentication is required.');

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
  const config = parseRouterOptions(WHERE, options, OPTION_NAMES, 'required');
  const waits = new PasswordWaits(parseWaitLimits(WHERE, options));
  const { service } = config;

  const handle: PasswordRouteHandler<P, OwnerLookupContext<P>> = async (req, res, request, access) => {
    // A plain pattern test, not an express-validator chain: the rule is one regular expression, the
    // chain cost a sixth of this route's CPU time, and a cache to spare it would hold what any
    // caller sends. Checked before any hook runs and before anything is kept.
    const instanceId = String(req.params.serverId);
    if (!isServerId(instanceId)) throw BAD_SERVER_ID;
    const action = actionOf(req, res, METHODS);
    if (hasQuery(req)) throw QUERY;
    request.instanceId = instanceId;
    const instance = await access.instance(req, res, request, (principal) => ({ principal, instanceId, action, req }));
    if (action === 'clear') {
      await service.clear(instance.id, request);
      sendEmpty(req, res, 204);
      return;
    }
    let password = await readPassword(service, req, instance.id, request);
    if (password === undefined && req.method === 'GET') password = await waits.wait(service, req, res, instance.id, request);
    sendJson(req, res, 200, { password: password ?? '' });
  };

  return passwordRouter(
    config,
    { path: OWNER_PASSWORD_PATH, unauthenticated: UNAUTHENTICATED, limitPer: 'caller and instance', challenge: CHALLENGE },
    handle,
  );
}
