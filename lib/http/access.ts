import type { Request, Response } from 'express';
import type { RequestState } from './answers';
import { internalError, isAnswerable, passwordError, type PasswordError } from '../core/errors';
import { callHost } from '../core/host-call';
import { isInstanceId } from '../core/instance-id';
import { everyInterval } from '../core/logging';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import type { HookConfiguration } from './router-options';
import type { Awaitable, InstanceRef, Principal } from '../types';

const NO_CALLER_LOG_INTERVAL_MS = 60_000;

/** What a router decides besides its configuration: its answer to a stranger and its limit's key. */
export interface AccessPolicy {
  /** What a request that does not authenticate is answered. */
  readonly unauthenticated: PasswordError;
  /**
   * Whom the rate limit counts: each instance (the guest router: the caller is the instance), or
   * each caller on each instance (the owner router: one reader cannot lock a project's members out).
   */
  readonly limitPer: 'instance' | 'caller and instance';
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
 * hooks, failing closed, and counts the request against the rate limit. Its refusals are reported
 * as `access.denied` by the route's catch path.
 */
export class Access<P extends Principal, C> {
  readonly #config: HookConfiguration<P, C>;
  readonly #policy: AccessPolicy;
  readonly #limiter: RateLimiter | undefined;
  readonly #noCallerLogGate = everyInterval(NO_CALLER_LOG_INTERVAL_MS);
  #warnedAnonymous = false;

  constructor(config: HookConfiguration<P, C>, policy: AccessPolicy) {
    this.#config = config;
    this.#policy = policy;
    this.#limiter = config.rateLimit && createRateLimiter(config.rateLimit, config.log);
  }

  /**
   * Authenticates the caller, looks up the instance `contextFor(principal)` is about, and counts the
   * request against the rate limit; rejects with the answer to a caller that does not authenticate,
   * 404 when the host resolves no instance, 500 when it resolves something that is not one, 429 past
   * the limit. Records the caller's and the instance's ids on `request`.
   */
  async instance(req: Request, res: Response, request: RequestState, contextFor: (principal: P) => C): Promise<InstanceRef> {
    request.refusal = 'access.denied';
    const principal = await this.#principal(req, request);
    const found: unknown = await this.#run('lookupInstance', () => this.#config.lookupInstance(contextFor(principal)));
    if (!found) throw passwordError('INSTANCE_NOT_FOUND', 'No such instance.');
    const { id, publicKey } = found as Partial<InstanceRef>;
    if (!isInstanceId(id) || !isPublicKeyList(publicKey)) {
      this.#config.log.error(
        'lookupInstance must resolve { id, publicKey? } (id: 1 to 255 characters of well-formed UTF-16 without control characters; publicKey: a string or an array of strings) or a falsy value.',
      );
      throw internalError();
    }
    request.instanceId = id;
    await this.#limit(req, res, request, id);
    request.refusal = undefined;
    return { id, ...(publicKey !== undefined && { publicKey }) };
  }

  /** The caller, its id recorded on `request`. Only a non-null object is a principal. */
  async #principal(req: Request, request: RequestState): Promise<P> {
    const { authenticate, principalId } = this.#config;
    const principal: unknown = await this.#run('authenticate', () => authenticate(req));
    if (typeof principal !== 'object' || principal === null) throw this.#policy.unauthenticated;
    if (principalId) {
      const id: unknown = await this.#run('principalId', () => principalId(principal as P));
      request.principalId = typeof id === 'string' && id !== '' ? id : undefined;
    } else {
      request.principalId = this.#defaultPrincipalId(principal);
    }
    return principal as P;
  }

  /** Counts the request; without a limit there is nothing to wait for. */
  #limit(req: Request, res: Response, request: RequestState, instanceId: string): Promise<void> | undefined {
    if (!this.#limiter) return undefined;
    if (this.#policy.limitPer === 'instance') return this.#limiter(req, res, instanceId);
    if (!request.principalId) {
      // Without a caller's id every caller would share one counter: refuse rather than guess.
      if (this.#noCallerLogGate()) {
        this.#config.log.error(
          'rateLimit counts each caller, but this principal has no id: pass the `principalId` option ' +
            '(e.g. principal => principal.userId); answered 500 (said at most once a minute).',
        );
      }
      throw internalError();
    }
    return this.#limiter(req, res, `${request.principalId}\n${instanceId}`);
  }

  #defaultPrincipalId(principal: object): string | undefined {
    const id = defaultPrincipalId(principal);
    if (id === undefined && !this.#warnedAnonymous) {
      this.#warnedAnonymous = true;
      this.#config.log.warn(
        'a principal has neither a string `id` nor `instanceId`, so its events carry no principalId; ' +
          'pass the `principalId` option to name who acted (this is said once).',
      );
    }
    return id;
  }

  /** Runs a hook of the host: a `PasswordError` is its answer, anything else a logged 500. */
  #run<T>(name: string, hook: () => Awaitable<T>): T | Promise<T> {
    return callHost(hook, (error): never => {
      if (isAnswerable(error)) throw error;
      this.#config.log.error(`the ${name} hook failed; answered 500.`, error);
      throw internalError();
    });
  }
}
