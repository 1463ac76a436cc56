import type { Request, Response } from 'express';
import { internalError, isAnswerable, passwordError, type PasswordError } from '../core/errors';
import { isInstanceId } from '../core/instance-id';
import { isThenable, type Diagnostics } from '../core/logging';
import type { RateLimiter } from './rate-limit';
import type { PasswordService } from '../core/service';
import type { Awaitable, InstanceRef, Principal } from '../types';

/** What one request has established so far: its id, then who is calling, then which instance. */
export interface RequestState {
  readonly requestId: string;
  principalId?: string;
  instanceId?: string;
}

/** The hooks and settings `Access` decides with, parsed from a router's options. */
export interface AccessRules<P extends Principal, C> {
  readonly service: PasswordService;
  readonly authenticate: (req: Request) => Awaitable<P | null | undefined>;
  readonly lookupInstance: (context: C) => Awaitable<InstanceRef | null | undefined>;
  readonly principalId: ((principal: P) => Awaitable<string | undefined>) | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly log: Diagnostics;
  /** What a request that does not authenticate is answered. */
  readonly unauthenticated: () => PasswordError;
}

function defaultPrincipalId(principal: Principal): string | undefined {
  const { id, instanceId } = principal as { id?: unknown; instanceId?: unknown };
  if (typeof id === 'string') return id;
  return typeof instanceId === 'string' ? instanceId : undefined;
}

/** `publicKey` as `InstanceRef` allows it: absent, a string, or an array of strings. */
function isPublicKeyList(publicKey: unknown): boolean {
  if (publicKey === undefined || typeof publicKey === 'string') return true;
  return Array.isArray(publicKey) && publicKey.every((key) => typeof key === 'string');
}

/**
 * Decides who may act on which instance: runs the host's `authenticate` and `lookupInstance`
 * hooks, failing closed, counts the request against the rate limit, and reports every refusal as
 * an `access.denied` event.
 */
export class Access<P extends Principal, C> {
  readonly #rules: AccessRules<P, C>;
  #warnedAnonymous = false;

  constructor(rules: AccessRules<P, C>) {
    this.#rules = rules;
  }

  /**
   * Authenticates the caller and records its id on `request`; rejects with the answer for a caller
   * that does not authenticate. Only a non-null object is a principal.
   */
  async principal(req: Request, request: RequestState): Promise<P> {
    const rules = this.#rules;
    const principal: unknown = await this.#run('authenticate', request, () => rules.authenticate(req));
    if (typeof principal !== 'object' || principal === null) throw this.deny(request, rules.unauthenticated());
    request.principalId = rules.principalId
      ? await this.#namedBy(rules.principalId, principal as P, request)
      : this.#defaultPrincipalId(principal);
    return principal as P;
  }

  /**
   * Looks up the instance `context` is about; rejects with 404 when the host resolves nothing, 500
   * when it resolves something that is not an instance.
   */
  async instance(request: RequestState, context: C): Promise<InstanceRef> {
    const found: unknown = await this.#run('lookupInstance', request, () => this.#rules.lookupInstance(context));
    if (!found) throw this.deny(request, passwordError('INSTANCE_NOT_FOUND', 'No such instance.'));
    const { id, publicKey } = found as Partial<InstanceRef>;
    if (!isInstanceId(id) || !isPublicKeyList(publicKey)) {
      this.#rules.log.error(
        'lookupInstance must resolve { id, publicKey? } (id: 1 to 255 characters of well-formed UTF-16; publicKey: a string or an array of strings) or a falsy value.',
      );
      throw internalError();
    }
    request.instanceId = id;
    return found as InstanceRef;
  }

  /**
   * Counts the request against the rate limit under `key`; rejects with 429 past it. Without a
   * limit there is nothing to wait for.
   */
  limit(req: Request, res: Response, request: RequestState, key: string): Promise<void> | undefined {
    const limiter = this.#rules.limiter;
    if (!limiter) return undefined;
    return limiter(req, res, key).catch((error: unknown) => {
      if (isAnswerable(error) && error.status === 429) this.deny(request, error);
      throw error;
    });
  }

  /** Reports `error` as an `access.denied` event and returns it, to be thrown. */
  deny(request: RequestState, error: PasswordError): PasswordError {
    this.#rules.service.report({ type: 'access.denied', reason: error.code, instanceId: request.instanceId }, request);
    return error;
  }

  async #namedBy(
    principalId: (principal: P) => Awaitable<string | undefined>,
    principal: P,
    request: RequestState,
  ): Promise<string | undefined> {
    const id: unknown = await this.#run('principalId', request, () => principalId(principal));
    return typeof id === 'string' ? id : undefined;
  }

  #defaultPrincipalId(principal: object): string | undefined {
    const id = defaultPrincipalId(principal);
    if (id === undefined && !this.#warnedAnonymous) {
      this.#warnedAnonymous = true;
      this.#rules.log.warn(
        'a principal has neither a string `id` nor `instanceId`, so its events carry no principalId; ' +
          'pass the `principalId` option to name who acted (this is said once).',
      );
    }
    return id;
  }

  /**
   * Runs a hook of the host: a `PasswordError` is its answer, anything else a logged 500. A
   * synchronous hook's result is used as it is; only a thenable is waited for.
   */
  #run<T>(name: string, request: RequestState, hook: () => Awaitable<T>): T | Promise<T> {
    let result: Awaitable<T>;
    let thenable: boolean;
    try {
      result = hook();
      thenable = isThenable(result);
    } catch (error) {
      throw this.#failure(name, request, error);
    }
    if (!thenable) return result as T;
    return Promise.resolve(result).catch((error: unknown) => {
      throw this.#failure(name, request, error);
    });
  }

  #failure(name: string, request: RequestState, error: unknown): PasswordError {
    if (isAnswerable(error)) {
      if (error.status === 401 || error.status === 403 || error.status === 404) this.deny(request, error);
      return error;
    }
    this.#rules.log.error(`the ${name} hook failed; answered 500.`, error);
    return internalError();
  }
}
