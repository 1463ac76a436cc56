import { Router, type NextFunction, type Request, type Response } from 'express';
import { Access, type RequestState } from './access';
import { Answers, sendText } from './answers';
import { isAnswerable, passwordError } from '../core/errors';
import { actionOf, methodTable } from './methods';
import { OptionsError } from '../core/options';
import { PasswordResetService } from '../core/reset-service';
import { createRateLimiter } from './rate-limit';
import { checkServiceOptionsMisplaced, parseHookOptions } from './router-options';
import type { PasswordServerLookupContext, Principal, ResetAction, RouterOptionsBase } from '../types';

/** Options of `createPasswordServerRouter(...)`, CloudStack's password server for owner-set passwords. */
export interface PasswordServerRouterOptions<P extends Principal = Principal>
  extends RouterOptionsBase<P, PasswordServerLookupContext<P>> {
  /** The `PasswordResetService` the host queues resets on. Required. */
  readonly resets: PasswordResetService;
}

const WHERE = 'createPasswordServerRouter()';
const HEADER = 'domu_request';
/** The request words, and the action each asks `lookupInstance` about. */
const WORDS: Readonly<Record<string, ResetAction>> = { send_my_password: 'fetch', saved_password: 'acknowledge' };
const METHODS = methodTable<'answer'>({ GET: 'answer', HEAD: 'answer' });
const ANY_PATH = /^/;
/** The protocol's answers. */
const SAVED_PASSWORD = 'saved_password';
const BAD_REQUEST = 'bad_request';
const UNKNOWN_WORD = passwordError('BAD_REQUEST', 'DomU_Request must be send_my_password or saved_password.');

/**
 * Whether `error` is a refusal the protocol answers with its word `bad_request`: a 4xx but a rate
 * limit. A rate limit and the 5xx keep the package's error body and `Retry-After`.
 */
function isProtocolRefusal(error: unknown): boolean {
  return isAnswerable(error) && error.status < 500 && error.status !== 429;
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
  checkServiceOptionsMisplaced(WHERE, options, ['store', 'encryptionKey', 'ttl', 'onEvent'], 'PasswordResetService', 'resets');
  const config = parseHookOptions(WHERE, options, ['resets']);
  if (!(options.resets instanceof PasswordResetService)) {
    throw new OptionsError(
      options.resets === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION',
      `${WHERE}: \`resets\` must be the PasswordResetService the host queues resets on.`,
    );
  }
  const { resets } = options;
  const { log } = config;
  const answers = new Answers(config);
  const access = new Access<P, PasswordServerLookupContext<P>>({
    ...config,
    service: resets,
    limiter: config.rateLimit && createRateLimiter(config.rateLimit, log),
    unauthenticated: () => passwordError('FORBIDDEN', 'The request does not come from a known instance.'),
  });

  async function answer(req: Request, res: Response, request: RequestState): Promise<void> {
    actionOf(req, res, METHODS);
    const word = req.headers[HEADER];
    const action = typeof word === 'string' && Object.hasOwn(WORDS, word) ? WORDS[word] : undefined;
    if (action === undefined) throw UNKNOWN_WORD;
    const principal = await access.principal(req, request);
    const instance = await access.instance(request, { principal, action, req });
    await access.limit(req, res, request, instance.id);
    const head = req.method === 'HEAD';
    if (action === 'acknowledge') {
      if (!head) await resets.acknowledge(instance.id, request);
      sendText(req, res, 200, SAVED_PASSWORD);
      return;
    }
    const password = head ? await resets.peek(instance.id, request) : await resets.take(instance.id, request);
    sendText(req, res, 200, password ?? SAVED_PASSWORD);
  }

  const route = answers.route(ANY_PATH, [], (req, res, request) =>
    answer(req, res, request).catch((error: unknown) => {
      if (!isProtocolRefusal(error)) throw error;
      sendText(req, res, (error as { status: number }).status, BAD_REQUEST);
    }),
  );
  const router = Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.headers[HEADER] === undefined) next();
    else route(req, res, next);
  });
  return router;
}
