import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { PasswordError, passwordError } from './errors';
import { isInstanceId } from './instance-id';
import { createInstanceLimiter, type InstanceLimiter } from './rate-limit';
import { sendError } from './responses';
import { emitEvent, type PasswordService } from './service';
import type { ActionContext, InstanceAction, Logger, Principal, RouterOptionsBase } from './types';

const REQUEST_ID_HEADER = 'X-Openstack-Request-Id';
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What one request has established about its caller. */
export interface RequestContext extends ActionContext {
  readonly requestId: string;
  principalId?: string;
  instanceId?: string;
}

/** What the routers share: options every router takes, already validated, and the service. */
export interface RouteKitOptions<P extends Principal> extends RouterOptionsBase<P> {
  readonly service: PasswordService;
  /** The router's name, for messages about its options. */
  readonly where: string;
  /** What `authenticate` returning nothing answers. */
  readonly unauthenticated: () => PasswordError;
}

function defaultPrincipalId(principal: Principal): string | undefined {
  const { id, instanceId } = principal as { id?: unknown; instanceId?: unknown };
  if (typeof id === 'string') return id;
  return typeof instanceId === 'string' ? instanceId : undefined;
}

function isAnswerable(error: unknown): error is PasswordError {
  return (
    error instanceof PasswordError &&
    Number.isInteger(error.status) &&
    error.status >= 400 &&
    error.status <= 599
  );
}

/** The per-request machinery both routers share: headers, request ids, hooks, errors and events. */
export class RouteKit<P extends Principal> {
  readonly service: PasswordService;
  readonly logger: Logger;
  readonly #options: RouteKitOptions<P>;
  readonly #securityHeaders: ((req: Request, res: Response) => void) | undefined;
  readonly #limiter: InstanceLimiter | undefined;

  constructor(options: RouteKitOptions<P>) {
    this.#options = options;
    this.service = options.service;
    this.logger = options.logger ?? console;
    this.#securityHeaders = securityHeaders(options.helmet);
    this.#limiter = createInstanceLimiter(options.where, options.rateLimit, this.logger);
  }

  /**
   * Starts an answer of this package's routes: `X-Openstack-Request-Id`, `Cache-Control: no-store`
   * and helmet's headers. Returns the request's context.
   */
  begin(req: Request, res: Response): RequestContext {
    const incoming = req.headers['x-openstack-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req-${randomUUID()}`;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.setHeader('Cache-Control', 'no-store');
    this.#securityHeaders?.(req, res);
    return { requestId };
  }

  /**
   * Runs `authenticate` and `lookupInstance` for `action` and counts the request against the
   * instance's rate limit; resolves the instance's id, or rejects with the `PasswordError` to answer.
   */
  async resolveInstance(
    req: Request,
    res: Response,
    context: RequestContext,
    action: InstanceAction,
    instanceId: string | undefined,
  ): Promise<string> {
    const options = this.#options;
    const principal = await this.#runHook('authenticate', context, () => options.authenticate(req));
    if (principal === null || principal === undefined) {
      throw this.#deny(context, options.unauthenticated());
    }
    context.principalId = (options.principalId ?? defaultPrincipalId)(principal);
    const instance = await this.#runHook('lookupInstance', context, () =>
      options.lookupInstance({ principal, instanceId, action, req }),
    );
    if (instance === null || instance === undefined) {
      throw this.#deny(context, passwordError('INSTANCE_NOT_FOUND', 'No such instance.'));
    }
    const id = (instance as { id?: unknown }).id;
    if (!isInstanceId(id)) {
      this.logger.error(
        'express-metadata-password: lookupInstance must resolve { id } (a string of 1 to 255 characters, well-formed UTF-16) or null; got',
        instance,
      );
      throw internalError();
    }
    context.instanceId = id;
    if (this.#limiter) {
      try {
        await this.#limiter(req, res, id);
      } catch (error) {
        if (isAnswerable(error) && error.status === 429) this.#deny(context, error);
        throw error;
      }
    }
    return id;
  }

  /**
   * Runs a check of the request's input; a refusal is reported as `password.rejected` before it
   * propagates.
   */
  guardInput<T>(context: RequestContext, check: () => T): T {
    const report = (error: unknown): never => {
      if (isAnswerable(error) && error.status < 500) {
        this.service[emitEvent]({ type: 'password.rejected', reason: error.code, context, ...instanceOf(context) });
      }
      throw error;
    };
    try {
      const result = check();
      return (result instanceof Promise ? result.catch(report) : result) as T;
    } catch (error) {
      return report(error);
    }
  }

  /** Answers `error`; anything but a `PasswordError` is logged and answered 500 `INTERNAL`. */
  fail(req: Request, res: Response, error: unknown): void {
    if (isAnswerable(error)) {
      sendError(req, res, error);
      return;
    }
    this.logger.error('express-metadata-password: unexpected error while answering a request.', error);
    sendError(req, res, internalError());
  }

  /** Wraps an async handler so nothing it throws escapes to Express 4's unhandled rejections. */
  handle(handler: (req: Request, res: Response, context: RequestContext) => Promise<void>): RequestHandler {
    return (req: Request, res: Response, _next: NextFunction) => {
      let context: RequestContext | undefined;
      try {
        context = this.begin(req, res);
        handler(req, res, context).catch((error: unknown) => this.fail(req, res, error));
      } catch (error) {
        this.fail(req, res, error);
      }
    };
  }

  async #runHook<T>(name: string, context: RequestContext, hook: () => T | Promise<T>): Promise<T> {
    try {
      return await hook();
    } catch (error) {
      if (isAnswerable(error)) {
        if (error.status === 401 || error.status === 403 || error.status === 404) this.#deny(context, error);
        throw error;
      }
      this.logger.error(`express-metadata-password: the ${name} hook threw.`, error);
      throw internalError();
    }
  }

  #deny(context: RequestContext, error: PasswordError): PasswordError {
    this.service[emitEvent]({
      type: 'access.denied',
      reason: error.code,
      context,
      ...instanceOf(context),
    });
    return error;
  }
}

function noop(): void {}

/**
 * Sets helmet's headers for `options`. helmet's middleware is synchronous: it sets headers and calls
 * next before returning. Its headers depend on the request only through functions in the options
 * (Content-Security-Policy nonces); without any, they are recorded once and replayed, which spares
 * each answer helmet's chain of a dozen middleware calls.
 */
function securityHeaders(options: HelmetOptions | false | undefined): ((req: Request, res: Response) => void) | undefined {
  if (options === false) return undefined;
  const middleware = helmet(options) as RequestHandler;
  if (containsFunction(options)) return (req, res) => middleware(req, res, noop);
  const headers: Array<readonly [name: string, value: string | undefined]> = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    removeHeader: (name: string) => headers.push([name, undefined]),
  };
  middleware({} as Request, recorder as unknown as Response, noop);
  return (_req, res) => {
    for (const [name, value] of headers) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
  };
}

function containsFunction(value: unknown, seen = new Set<unknown>()): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  return Object.values(value).some((item) => containsFunction(item, seen));
}

function instanceOf(context: RequestContext): { instanceId?: string } {
  return context.instanceId === undefined ? {} : { instanceId: context.instanceId };
}

function internalError(): PasswordError {
  return passwordError('INTERNAL', 'An internal error occurred.');
}
