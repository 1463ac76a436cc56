import { Router, type NextFunction, type Request, type Response } from 'express';
import { passwordRouter, sendText, type PasswordRouteHandler } from './answers';
import { passwordError, type PasswordError } from '../core/errors';
import { actionOf, methodTable } from './methods';
import { optionNames, OptionsError } from '../core/options';
import { PasswordResetService } from '../core/reset-service';
import type { RoutePath } from './paths';
import { checkMisplacedServiceOptions, parseHookOptions } from './router-options';
import type { PasswordServerLookupContext, Principal, ResetAction, RouterOptionsBase } from '../types';

/** Options of `createPasswordServerRouter(...)`, CloudStack's password server for owner-set passwords. */
export interface PasswordServerRouterOptions<P extends Principal = Principal>
  extends RouterOptionsBase<P, PasswordServerLookupContext<P>> {
  /** The `PasswordResetService` the host queues resets on. Required. */
  readonly resets: PasswordResetService;
}

const WHERE = 'createPasswordServerRouter()';
const OPTION_NAMES = optionNames<PasswordServerRouterOptions>({
  authenticate: true,
  lookupInstance: true,
  resets: true,
  logger: true,
  helmet: true,
  principalId: true,
  rateLimit: true,
  errorBody: true,
});
const HEADER = 'domu_request';
/** The request words, and the action each asks `lookupInstance` about. */
const WORDS: Readonly<Record<string, ResetAction>> = { send_my_password: 'fetch', saved_password: 'acknowledge' };
const METHODS = methodTable<'answer'>({ GET: 'answer', HEAD: 'answer' });
/** Every path under the mount: the agents ask at `/` (CloudStack) or `/1.0/` (Exoscale). */
const ANY_PATH: RoutePath = { match: () => ({}) };
/** The protocol's answers. */
const SAVED_PASSWORD = 'saved_password';
const BAD_REQUEST = 'bad_request';
const UNKNOWN_WORD = passwordError('BAD_REQUEST', 'DomU_Request must be send_my_password or saved_password.');
const UNAUTHENTICATED = passwordError('FORBIDDEN', 'The request does not come from a known instance.');

/**
 * A refusal (a 4xx but a rate limit) is the protocol's word `bad_request`; a rate limit and the 5xx
 * keep the package's JSON error body, with `Retry-After`.
 */
function protocolWord(error: PasswordError): string | undefined {
  return error.status < 500 && error.status !== 429 ? BAD_REQUEST : undefined;
}

/**
 * CloudStack's password server, for owner-set passwords: a guest's agent asks with the header
 * `DomU_Request: send_my_password` and gets the pending password (or `saved_password` when none),
 * then acknowledges with `DomU_Request: saved_password`. Mount it where the agents look, at the
 * root of a listener on port 8080. A request without `DomU_Request` is left to the host (`next()`).
 */
export function createPasswordServerRouter<P extends Principal = Principal>(
  options: PasswordServerRouterOptions<P>,
): Router {
  checkMisplacedServiceOptions(WHERE, options, ['store', 'encryptionKey', 'ttl', 'onEvent'], 'PasswordResetService', 'resets');
  const config = parseHookOptions(WHERE, options, OPTION_NAMES);
  if (!(options.resets instanceof PasswordResetService)) {
    throw new OptionsError(
      options.resets === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION',
      `${WHERE}: \`resets\` must be the PasswordResetService the host queues resets on.`,
    );
  }
  const { resets } = options;
  const answer: PasswordRouteHandler<P, PasswordServerLookupContext<P>> = async (req, res, request, access) => {
    actionOf(req, res, METHODS);
    const word = req.headers[HEADER];
    const action = typeof word === 'string' && Object.hasOwn(WORDS, word) ? WORDS[word] : undefined;
    if (action === undefined) throw UNKNOWN_WORD;
    const instance = await access.instance(req, res, request, (principal) => ({ principal, action, req }));
    const head = req.method === 'HEAD';
    if (action === 'acknowledge') {
      if (!head) await resets.acknowledge(instance.id, request);
      sendText(req, res, 200, SAVED_PASSWORD);
      return;
    }
    const password = head ? await resets.peek(instance.id, request) : await resets.take(instance.id, request);
    sendText(req, res, 200, password ?? SAVED_PASSWORD);
  };

  const route = passwordRouter(
    { ...config, service: resets },
    { path: ANY_PATH, unauthenticated: UNAUTHENTICATED, limitPer: 'instance', textBody: protocolWord },
    answer,
  );
  const router = Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.headers[HEADER] === undefined) next();
    else route(req, res, next);
  });
  return router;
}
