import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { Access, type AccessPolicy } from './access';
import { BODY_ALREADY_PARSED } from './body';
import { internalError, isAnswerable, passwordError, type PasswordError } from '../core/errors';
import { callHost, isThenable } from '../core/host-call';
import type { Diagnostics } from '../core/logging';
import type { RefusalReporter } from '../core/events';
import type { RoutePath } from './paths';
import type { HookConfiguration } from './router-options';
import type { SecurityHeaders } from './security-headers';
import type { ErrorBodyHook } from '../types';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The largest error body an `errorBody` hook may make; a larger one is answered with the default. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** The default 500 body, for when even the answer to an error could not be made. */
const INTERNAL_BODY = JSON.stringify({ error: { code: 'INTERNAL', message: internalError().message } });

/**
 * What one request has established so far: its id, then who is calling, then which instance, and
 * which event a refusal at this point is reported as (set by each step before it runs).
 */
export interface RequestState {
  readonly requestId: string;
  principalId?: string;
  instanceId?: string;
  refusal?: 'access.denied' | 'password.rejected';
}

/** How a router answers: its security headers, its error body and where it reports. */
interface AnswerSettings {
  /** Where refusals are reported: the router's service. */
  readonly service: RefusalReporter;
  readonly securityHeaders: SecurityHeaders | undefined;
  readonly errorBody: ErrorBodyHook | undefined;
  readonly log: Diagnostics;
  /** `WWW-Authenticate` for a 401 answer. */
  readonly challenge?: string;
  /**
   * The `text/plain` body of an error answer, for a protocol whose answers are words (CloudStack's
   * password server); `undefined` for the JSON error body. Default: always the JSON body.
   */
  readonly textBody?: (error: PasswordError) => string | undefined;
}

/** A route's work once its answer has begun; whatever it throws is answered. */
type RouteHandler = (req: Request, res: Response, request: RequestState) => Promise<void>;

/** A router's one route: its path, how access is decided, and the 401 challenge if any. */
export interface PasswordRoute extends AccessPolicy {
  readonly path: RoutePath;
  /** `WWW-Authenticate` for a 401 answer. */
  readonly challenge?: string;
  /** The `text/plain` body of an error answer, when the route's protocol answers in words. */
  readonly textBody?: (error: PasswordError) => string | undefined;
}

/**
 * The router of one of the package's routes, set up one way for both: its answers (headers, the one
 * catch path) and its access decisions from the router's configuration; `handler` gets the access
 * to run for each request.
 */
/** What a router does with a request on its path, given its state and the router's access step. */
export type PasswordRouteHandler<P extends object, C> = (
  req: Request,
  res: Response,
  request: RequestState,
  access: Access<P, C>,
) => Promise<void>;

export function passwordRouter<P extends object, C>(
  config: HookConfiguration<P, C> & { readonly service: RefusalReporter },
  route: PasswordRoute,
  handler: PasswordRouteHandler<P, C>,
): Router {
  const answers = new Answers({
    ...config,
    ...(route.challenge !== undefined && { challenge: route.challenge }),
    ...(route.textBody !== undefined && { textBody: route.textBody }),
  });
  const access = new Access<P, C>(config, route);
  const router = Router();
  router.use(answers.route(route.path, (req, res, request) => handler(req, res, request, access)));
  return router;
}

const MALFORMED_ESCAPE = passwordError('BAD_REQUEST', 'The path holds a malformed percent-escape.');

/** True when the request announces a body that nobody has read yet. */
function hasUnreadBody(req: Request): boolean {
  if (req.readableEnded) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Writes an answer. One given while the request body is unread closes the connection, so Node does
 * not drain a body nobody reads to keep the connection alive.
 */
function send(req: Request, res: Response, status: number, type: string | undefined, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
  if (status === 204) {
    res.end();
    return;
  }
  if (type) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers `text/plain; charset=utf-8`. */
export function sendText(req: Request, res: Response, status: number, body: string): void {
  send(req, res, status, TEXT_TYPE, body);
}

/** Answers JSON. */
export function sendJson(req: Request, res: Response, status: number, body: unknown): void {
  send(req, res, status, JSON_TYPE, JSON.stringify(body));
}

/** Answers with no body: 204, or 200 for a stored password. */
export function sendEmpty(req: Request, res: Response, status: number): void {
  send(req, res, status, undefined, '');
}

/** `Retry-After` for `error`: its `retryAfter` when a header can hold it (delta-seconds), else 1 for 429 and 503. */
function retryAfterOf(error: PasswordError): string | undefined {
  const { retryAfter } = error;
  if (Number.isSafeInteger(retryAfter) && (retryAfter as number) >= 0) return String(retryAfter);
  return error.status === 429 || error.status === 503 ? '1' : undefined;
}

/** `body` as JSON text when it serialises to a JSON object of at most 16 KiB, else `undefined`. */
function serialisedObject(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  try {
    const text: unknown = JSON.stringify(body);
    return typeof text === 'string' && text.startsWith('{') && text.length <= MAX_ERROR_BODY_BYTES ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers a router's requests: begins each answer with `X-Openstack-Request-Id`,
 * `Cache-Control: no-store` and the security headers, and answers whatever a route throws, in one
 * catch path: the refusal's event, then the package's JSON error body (anything but a
 * `PasswordError` is logged and answered 500 `INTERNAL`).
 */
class Answers {
  readonly #settings: AnswerSettings;

  constructor(settings: AnswerSettings) {
    this.#settings = settings;
  }

  /**
   * The middleware of one route: for a path that is the route, begins the answer, puts the decoded
   * params in `req.params` and runs `handler`, answering whatever it throws; any other path goes to
   * `next()`, so the host's routes under the same mount keep working. A param whose escapes do not
   * decode is 400 `BAD_REQUEST`, never Express's HTML error page. Nothing escapes to Express
   * (Express 4 ignores rejected promises).
   */
  route(path: RoutePath, handler: RouteHandler): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const params = path.match(req.path, true);
      if (params === undefined) {
        next();
        return;
      }
      const request: RequestState = { requestId: requestIdOf(req) };
      try {
        this.#begin(req, res, request);
        if (params === 'malformed') throw MALFORMED_ESCAPE;
        req.params = { ...params };
      } catch (error) {
        this.#fail(req, res, request, error);
        return;
      }
      handler(req, res, request).catch((error: unknown) => this.#fail(req, res, request, error));
    };
  }

  #begin(req: Request, res: Response, request: RequestState): void {
    res.setHeader('X-Openstack-Request-Id', request.requestId);
    res.setHeader('Cache-Control', 'no-store');
    this.#settings.securityHeaders?.(req, res);
  }

  /**
   * The one catch path: reports a refusal as the step that refused says, then answers. Whatever goes
   * wrong on the way (a hostile error, a header no one can send) ends in the default 500 body.
   */
  #fail(req: Request, res: Response, request: RequestState, thrown: unknown): void {
    const { log, service, challenge } = this.#settings;
    try {
      const error = isAnswerable(thrown) ? thrown : internalError();
      if (error !== thrown) log.error('unexpected error while answering a request.', thrown);
      const consumed = thrown === BODY_ALREADY_PARSED;
      if (request.refusal !== undefined && (error.status < 500 || consumed)) {
        service.refused(request.refusal, consumed ? 'BODY_ALREADY_PARSED' : error.code, request);
      }
      if (!res.headersSent) {
        const retryAfter = retryAfterOf(error);
        if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
        if (error.status === 401 && challenge !== undefined) res.setHeader('WWW-Authenticate', challenge);
      }
      const text = this.#settings.textBody?.(error);
      if (text === undefined) send(req, res, error.status, JSON_TYPE, this.#errorBody(error));
      else send(req, res, error.status, TEXT_TYPE, text);
    } catch (failure) {
      log.error('the answer to an error could not be made; answered 500.', failure);
      if (res.headersSent) res.destroy();
      else send(req, res, 500, JSON_TYPE, INTERNAL_BODY);
    }
  }

  /** The JSON text of the error's body: the host's `errorBody` when it makes a JSON object, else the default. */
  #errorBody(error: PasswordError): string {
    const { errorBody, log } = this.#settings;
    const standard = JSON.stringify({ error: { code: error.code, message: error.message } });
    if (!errorBody) return standard;
    let threw = false;
    const body = callHost(
      () => errorBody(error),
      (hookError) => {
        threw = true;
        log.error('errorBody threw; answered the standard error body.', hookError);
      },
    );
    const text = isThenable(body) ? undefined : serialisedObject(body);
    if (text !== undefined) return text;
    if (!threw) {
      log.error(
        'errorBody must return, synchronously, an object that JSON.stringify makes into at most 16 KiB; answered the standard error body.',
      );
    }
    return standard;
  }
}

function requestIdOf(req: Request): string {
  const incoming = req.headers['x-openstack-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req-${randomUUID()}`;
}
