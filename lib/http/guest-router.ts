import { Router, type Request, type Response } from 'express';
import { Access, type RequestState } from './access';
import { Answers, sendEmpty, sendText } from './answers';
import { bodyRejectionReason, checkBodyHeaders, createBodyReader } from './body';
import { isAnswerable, passwordError } from '../core/errors';
import { InstanceKeys } from '../core/instance-key';
import { actionOf, methodTable, readPassword } from './methods';
import { optionalInteger, OptionsError } from '../core/options';
import { createRateLimiter } from './rate-limit';
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
const METHODS = methodTable<GuestAction>({ GET: 'read', HEAD: 'read', POST: 'set' });
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
// `/:version/password`, case-sensitive, with an optional trailing slash as Express routes match.
const PASSWORD_PATH = /^\/([^/]+)\/password\/?$/;
// The 409 answer never varies: made once, as making an Error captures a stack trace.
const ALREADY_SET = passwordError('PASSWORD_ALREADY_SET', 'A password is already set; the owner must clear it first.');

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
  const config = parseRouterOptions(WHERE, options, ['versions', 'bodyTimeout'], 'default');
  optionalInteger(WHERE, 'bodyTimeout', options.bodyTimeout, 1, 600_000, 'milliseconds');
  // A Set lookup rather than an express-validator chain: for a fixed list of names the chain's
  // run() (field selection, a context per request) was a tenth of this route's CPU time.
  const versions = new Set<unknown>(versionsFrom(options.versions));
  const { service, log } = config;
  const answers = new Answers(config);
  const access = new Access<P, GuestLookupContext<P>>({
    ...config,
    limiter: config.rateLimit && createRateLimiter(config.rateLimit, log),
    unauthenticated: () => passwordError('FORBIDDEN', 'The request does not come from a known instance.'),
  });
  const readBody = createBodyReader({
    maxBytes: service.maxBytes,
    timeoutMs: options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS,
    format: service.format,
    log,
  });
  const instanceKeys = new InstanceKeys(log);

  /** Reports a refused body as `password.rejected` before it is answered. */
  function rejected(request: RequestState) {
    return (error: unknown): never => {
      if (isAnswerable(error)) {
        const reason = bodyRejectionReason(error);
        service.report({ type: 'password.rejected', reason, instanceId: request.instanceId }, request);
      }
      throw error;
    };
  }

  async function handle(req: Request, res: Response, request: RequestState): Promise<void> {
    if (!versions.has(req.params.version)) {
      throw passwordError('UNSUPPORTED_VERSION', `Metadata version ${req.params.version} does not serve passwords.`);
    }
    const action = actionOf(req, res, METHODS);
    if (action === 'set') {
      try {
        checkBodyHeaders(req, service.maxBytes);
      } catch (error) {
        rejected(request)(error);
      }
    }
    const principal = await access.principal(req, request);
    const instance = await access.instance(request, { principal, action, req });
    await access.limit(req, res, request, instance.id);
    if (action === 'read') {
      sendText(req, res, 200, (await readPassword(service, req, instance.id, request)) ?? '');
      return;
    }
    const value = await readBody(req).catch(rejected(request));
    if (instance.publicKey !== undefined && service.format === 'base64') {
      try {
        instanceKeys.check(value, instance.publicKey);
      } catch (error) {
        if (isAnswerable(error) && error.status < 500) rejected(request)(error);
        throw error;
      }
    }
    if (!(await service.setOnce(instance.id, value, request))) throw ALREADY_SET;
    sendEmpty(req, res, 200);
  }

  const router = Router();
  router.use(answers.route(PASSWORD_PATH, ['version'], handle));
  return router;
}
