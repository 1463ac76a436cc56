import type { Router } from 'express';
import { passwordRouter, sendEmpty, sendText, type PasswordRouteHandler } from './answers';
import { createBodyReader } from './body';
import { passwordError } from '../core/errors';
import { actionOf, methodTable, readPassword } from './methods';
import { optionalInteger, optionNames, OptionsError } from '../core/options';
import { GUEST_PASSWORD_PATH } from './paths';
import { parseRouterOptions } from './router-options';
import type { PasswordService } from '../core/service';
import type { GuestAction, GuestLookupContext, Principal, RouterOptionsBase } from '../types';
import { PASSWORD_VERSIONS } from './versions';

export { PASSWORD_VERSIONS };

/** Options of `createPasswordRouter(...)`, the guest-facing router. */
export interface PasswordRouterOptions<P extends Principal = Principal>
  extends RouterOptionsBase<P, GuestLookupContext<P>> {
  /**
   * The service passwords are stored through; share one with the owner router. Default: a new
   * `PasswordService()` on a `MemoryStore`.
   */
  readonly service?: PasswordService;
  /** Metadata versions that serve `password`. Default: Nova's list and `latest`. */
  readonly versions?: readonly string[];
  /** Milliseconds a POST body may take to arrive before 408. Default 10000. */
  readonly bodyTimeout?: number;
}

const WHERE = 'createPasswordRouter()';
const OPTION_NAMES = optionNames<PasswordRouterOptions>({
  authenticate: true,
  lookupInstance: true,
  service: true,
  versions: true,
  logger: true,
  helmet: true,
  principalId: true,
  bodyTimeout: true,
  rateLimit: true,
  errorBody: true,
});
const METHODS = methodTable<GuestAction>({ GET: 'read', HEAD: 'read', POST: 'set' });
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
// These answers never vary: made once, as making an Error captures a stack trace. The version is
// not echoed: it is the caller's text, decoded.
const ALREADY_SET = passwordError('PASSWORD_ALREADY_SET', 'A password is already set; the owner must clear it first.');
const UNSUPPORTED_VERSION = passwordError('UNSUPPORTED_VERSION', 'This metadata version does not serve passwords.');
const FORBIDDEN = passwordError('FORBIDDEN', 'The request does not come from a known instance.');

function versionsFrom(versions: unknown): readonly string[] {
  if (versions === undefined) return PASSWORD_VERSIONS;
  if (
    !Array.isArray(versions) ||
    versions.length === 0 ||
    !versions.every((version) => typeof version === 'string' && /^[\w.-]+$/.test(version))
  ) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${WHERE}: \`versions\` must be a non-empty array of version names such as '2013-04-04' or 'latest'.`,
    );
  }
  return versions;
}

/**
 * The guest-facing router: `GET` and `POST` of `/:version/password`, as Nova's metadata API serves
 * them, with atomic set-once. Mount it under the metadata prefix: `app.use('/openstack', router)`.
 * Other paths under the mount are left to the host.
 */
export function createPasswordRouter<P extends Principal = Principal>(options: PasswordRouterOptions<P>): Router {
  const config = parseRouterOptions(WHERE, options, OPTION_NAMES, 'default');
  optionalInteger(WHERE, 'bodyTimeout', options.bodyTimeout, 1, 600_000, 'milliseconds');
  // A Set lookup rather than an express-validator chain: for a fixed list of names the chain's
  // run() (field selection, a context per request) was a tenth of this route's CPU time.
  const versions = new Set<unknown>(versionsFrom(options.versions));
  const { service } = config;
  const readBody = createBodyReader({
    maxBytes: service.maxBytes,
    timeoutMs: options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS,
    format: service.format,
    log: config.log,
  });

  const handle: PasswordRouteHandler<P, GuestLookupContext<P>> = async (req, res, request, access) => {
    if (!versions.has(req.params.version)) throw UNSUPPORTED_VERSION;
    const action = actionOf(req, res, METHODS);
    const instance = await access.instance(req, res, request, (principal) => ({ principal, action, req }));
    if (action === 'read') {
      sendText(req, res, 200, (await readPassword(service, req, instance.id, request)) ?? '');
      return;
    }
    request.refusal = 'password.rejected';
    const value = await readBody(req);
    // The service checks the value (shape, then the instance's key) and reports what it refuses.
    request.refusal = undefined;
    const context = { ...request, ...(instance.publicKey !== undefined && { publicKey: instance.publicKey }) };
    if (!(await service.setOnce(instance.id, value, context))) throw ALREADY_SET;
    sendEmpty(req, res, 200);
  };

  return passwordRouter(config, { path: GUEST_PASSWORD_PATH, unauthenticated: FORBIDDEN, limitPer: 'instance' }, handle);
}
