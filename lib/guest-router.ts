import { Router, type Request, type Response } from 'express';
import { checkBodyHeaders, createBodyReader } from './body';
import { passwordError } from './errors';
import { optionalInteger, OptionsError } from './options';
import { routerService } from './router-options';
import { sendEmpty, sendError, sendText } from './responses';
import { RouteKit, type RequestContext } from './route-kit';
import { peekValue, SERVICE_OPTION_NAMES } from './service';
import type { Principal, PasswordRouterOptions } from './types';

/** Metadata versions that serve `password`, as Nova lists them. */
export const PASSWORD_VERSIONS: readonly string[] = [
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
  '2020-10-14',
  '2025-04-04',
  'latest',
];

const WHERE = 'createPasswordRouter()';
const ALLOW = 'GET, HEAD, POST';
const DEFAULT_BODY_TIMEOUT_MS = 10_000;
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
  const service = routerService(WHERE, options, ['versions', 'bodyTimeout'], SERVICE_OPTION_NAMES, false);
  optionalInteger(WHERE, 'bodyTimeout', options.bodyTimeout, 1, 600_000, 'milliseconds');
  const versions = versionsFrom(options.versions);
  const kit = new RouteKit<P>({
    ...options,
    service,
    where: WHERE,
    unauthenticated: () => passwordError('FORBIDDEN', 'The request does not come from a known instance.'),
  });
  const readBody = createBodyReader({
    maxBytes: service.maxBytes,
    timeoutMs: options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS,
    logger: kit.logger,
  });
  // A Set lookup rather than an express-validator chain: for a fixed list of names the chain's
  // run() (field selection, a context per request) was a tenth of this route's CPU time.
  const knownVersions = new Set<unknown>(versions);

  async function handlePassword(req: Request, res: Response, context: RequestContext): Promise<void> {
    if (!knownVersions.has(req.params.version)) {
      throw passwordError('UNSUPPORTED_VERSION', `Metadata version ${req.params.version} does not serve passwords.`);
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const id = await kit.resolveInstance(req, res, context, 'read', undefined);
      const value = req.method === 'GET' ? await service.get(id, context) : await service[peekValue](id, context);
      sendText(req, res, 200, value ?? '');
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', ALLOW);
      throw passwordError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${ALLOW}.`);
    }
    await post(req, res, context);
  }

  async function post(req: Request, res: Response, context: RequestContext): Promise<void> {
    kit.guardInput(context, () => checkBodyHeaders(req, service.maxBytes));
    const id = await kit.resolveInstance(req, res, context, 'set', undefined);
    const value = await kit.guardInput(context, () => readBody(req));
    if (await service.setOnce(id, value, context)) {
      sendEmpty(req, res, 200);
      return;
    }
    sendError(req, res, ALREADY_SET);
  }

  const router = Router({ caseSensitive: true });
  router.all('/:version/password', kit.handle(handlePassword));
  return router;
}
