import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RequestState } from './access';
import { internalError, isAnswerable, passwordError, type PasswordError } from '../core/errors';
import { isThenable, type Diagnostics } from '../core/logging';
import type { SecurityHeaders } from './security-headers';
import type { ErrorBodyHook } from '../types';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How a router answers: its security headers, its error body and where it reports failures. */
export interface AnswerSettings {
  readonly securityHeaders: SecurityHeaders | undefined;
  readonly errorBody: ErrorBodyHook | undefined;
  readonly log: Diagnostics;
}

/** A route's work once its answer has begun; whatever it throws is answered. */
export type RouteHandler = (req: Request, res: Response, request: RequestState) => Promise<void>;

const MALFORMED_ESCAPE = passwordError('BAD_REQUEST', 'The path holds a malformed percent-escape.');

/** The route's params from `match`, percent-decoded; a malformed escape is 400 `BAD_REQUEST`. */
function decodeParams(names: readonly string[], match: RegExpExecArray): Record<string, string> {
  const params: Record<string, string> = {};
  try {
    names.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1]);
    });
  } catch {
    throw MALFORMED_ESCAPE;
  }
  return params;
}

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

/**
 * Answers a router's requests: begins each answer with `X-Openstack-Request-Id`,
 * `Cache-Control: no-store` and the security headers, and answers whatever a route throws with the
 * package's JSON error body (anything but a `PasswordError` is logged and answered 500 `INTERNAL`).
 */
export class Answers {
  readonly #settings: AnswerSettings;

  constructor(settings: AnswerSettings) {
    this.#settings = settings;
  }

  /**
   * The middleware of one route: for a path `pattern` matches (its groups named by `params`), begins
   * the answer, decodes the params into `req.params` and runs `handler`, answering whatever it
   * throws; any other path goes to `next()`, so the host's routes under the same mount keep working.
   * A param whose percent-escapes do not decode is 400 `BAD_REQUEST`, never Express's HTML error
   * page. Nothing the handler throws escapes to Express (Express 4 ignores rejected promises).
   */
  route(pattern: RegExp, params: readonly string[], handler: RouteHandler): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const match = pattern.exec(req.path);
      if (match === null) {
        next();
        return;
      }
      let request: RequestState;
      try {
        request = this.#begin(req, res);
        req.params = decodeParams(params, match);
      } catch (error) {
        this.fail(req, res, error);
        return;
      }
      handler(req, res, request).catch((error: unknown) => this.fail(req, res, error));
    };
  }

  /** Answers `error`; anything but a `PasswordError` is logged and answered 500 `INTERNAL`. */
  fail(req: Request, res: Response, error: unknown): void {
    if (isAnswerable(error)) {
      this.#sendError(req, res, error);
      return;
    }
    this.#settings.log.error('unexpected error while answering a request.', error);
    this.#sendError(req, res, internalError());
  }

  #begin(req: Request, res: Response): RequestState {
    const incoming = req.headers['x-openstack-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req-${randomUUID()}`;
    res.setHeader('X-Openstack-Request-Id', requestId);
    res.setHeader('Cache-Control', 'no-store');
    this.#settings.securityHeaders?.(req, res);
    return { requestId };
  }

  #sendError(req: Request, res: Response, error: PasswordError): void {
    if (error.retryAfter !== undefined && !res.headersSent) res.setHeader('Retry-After', String(error.retryAfter));
    sendJson(req, res, error.status, this.#errorBody(error));
  }

  #errorBody(error: PasswordError): unknown {
    const { errorBody, log } = this.#settings;
    const standard = { error: { code: error.code, message: error.message } };
    if (!errorBody) return standard;
    try {
      const body: unknown = errorBody(error);
      if (typeof body === 'object' && body !== null && !isThenable(body)) return body;
      log.error('errorBody must return an object, synchronously; answered the standard error body.');
    } catch (hookError) {
      log.error('errorBody threw; answered the standard error body.', hookError);
    }
    return standard;
  }
}
