import type { Request } from 'express';
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { HelmetOptions } from 'helmet';
import type { PasswordService } from './service';

/** A value or a promise of it: every hook may be synchronous or asynchronous. */
export type Awaitable<T> = T | Promise<T>;

/**
 * What the host's `authenticate` hook returns for a caller it recognises. Any object will do; the
 * library only reads `id` or `instanceId` (when strings) to name the caller in events, unless the
 * `principalId` option says otherwise.
 */
export type Principal = object;

/** What a request wants to do with an instance's password; passed to `lookupInstance`. */
export type InstanceAction = 'read' | 'set' | 'clear';

/**
 * The stored form the guest router accepts.
 * - `'base64'`: standard alphabet, padded, CR/LF removed, decoding to 64 to 1024 bytes (one RSA block).
 * - `'text'`: any UTF-8 text without control characters.
 */
export type PasswordFormat = 'base64' | 'text';

/** The instance a request is about, as the host's `lookupInstance` hook identifies it. */
export interface InstanceRef {
  /** The key the password is stored under: the instance's stable id (a UUID in Nova). */
  readonly id: string;
}

/** The argument of the `lookupInstance` hook. */
export interface LookupContext<P extends Principal = Principal> {
  /** What `authenticate` returned for this request. */
  readonly principal: P;
  /**
   * The instance named in the path: the `:serverId` on the owner router; `undefined` on the guest
   * router, where the caller means its own instance.
   */
  readonly instanceId: string | undefined;
  /** What the caller wants to do: decide roles here (e.g. readers read, members clear). */
  readonly action: InstanceAction;
  /** The Express request, for anything else the host needs. */
  readonly req: Request;
}

/**
 * Identifies the caller. Return `null`/`undefined` to refuse (guest router: 403 `FORBIDDEN`,
 * owner router: 401 `UNAUTHENTICATED`), or throw a `PasswordError` to answer with its status.
 */
export type AuthenticateHook<P extends Principal = Principal> = (
  req: Request,
) => Awaitable<P | null | undefined>;

/**
 * Resolves the instance a request is about and decides whether the principal may perform `action`
 * on it. Return `null`/`undefined` for 404 `INSTANCE_NOT_FOUND` (also the right answer for "exists
 * but not yours"), or throw a `PasswordError` (e.g. 403 `FORBIDDEN`) to answer specifically.
 */
export type LookupInstanceHook<P extends Principal = Principal> = (
  context: LookupContext<P>,
) => Awaitable<InstanceRef | null | undefined>;

/** The kinds of audit event; see `PasswordEvent`. */
export type PasswordEventType =
  | 'password.set'
  | 'password.read'
  | 'password.conflict'
  | 'password.cleared'
  | 'password.rejected'
  | 'access.denied'
  | 'store.unavailable';

/** An audit event. It never carries the password. */
export interface PasswordEvent {
  /** What happened. */
  readonly type: PasswordEventType;
  /** The instance concerned, when known. */
  readonly instanceId?: string;
  /** The acting principal's id (see the `principalId` option), when known. */
  readonly principalId?: string;
  /**
   * Why: the error code for `password.rejected` and `access.denied`, `'overwrite'` for a
   * `password.set` made by `PasswordService.overwrite`, the error message for `store.unavailable`.
   */
  readonly reason?: string;
  /** The `X-Openstack-Request-Id` of the request, when the event comes from one. */
  readonly requestId?: string;
  /**
   * How long the store call behind this event took, in milliseconds: set on the events that follow a
   * store call (`password.set`, `password.read`, `password.conflict`, `password.cleared`,
   * `store.unavailable`).
   */
  readonly durationMs?: number;
  /** When it happened. */
  readonly at: Date;
}

/** Receives every audit event. A throw is logged and never fails the request. */
export type EventHandler = (event: PasswordEvent) => void;

/** Where diagnostics go. `console` fits. */
export interface Logger {
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Who did something, for the audit events of `PasswordService` calls. */
export interface ActionContext {
  /** The acting principal's id. */
  readonly principalId?: string;
  /** The request id to correlate the event with. */
  readonly requestId?: string;
}

/**
 * Storage for passwords, keyed by instance id. Implementations: `MemoryStore`, `RedisStore`
 * (`express-metadata-password/redis`), `PostgresStore` (`express-metadata-password/postgres`).
 * Every method rejects when the backend fails or does not answer in time.
 */
export interface PasswordStore {
  /** The stored value, or `undefined` when there is none or it has expired. */
  get(id: string): Promise<string | undefined>;
  /** Stores `value` only if nothing is stored for `id`; atomic. Resolves `false` when already set. */
  setIfAbsent(id: string, value: string, ttlMs?: number): Promise<boolean>;
  /** Stores `value`, replacing any previous one. */
  set(id: string, value: string, ttlMs?: number): Promise<void>;
  /** Removes the value; resolves whether something was removed. */
  delete(id: string): Promise<boolean>;
  /** Releases timers or connections the store owns (not those the host passed in). */
  close?(): Promise<void>;
}

/** Options of `new PasswordService(...)`. */
export interface PasswordServiceOptions {
  /** Where passwords are kept. Default: a new `MemoryStore`. */
  readonly store?: PasswordStore;
  /** Milliseconds after which a stored password expires. Default: never (as Nova). */
  readonly ttl?: number;
  /** Largest accepted value in bytes, 16 to 4096. Default 1020 (Nova's 4 × 255). */
  readonly maxBytes?: number;
  /** Accepted value format. Default `'base64'`. */
  readonly format?: PasswordFormat;
  /** Receives the audit events of every router sharing this service. */
  readonly onEvent?: EventHandler;
  /** Where a throwing `onEvent` and store failures are reported. Default `console`. */
  readonly logger?: Logger;
}

/** Per-instance rate limit of a router (`rateLimit` option), built on express-rate-limit. */
export interface InstanceRateLimit {
  /** The window in milliseconds. Default 60000. */
  readonly windowMs?: number;
  /** Requests per instance per window. Default 10. */
  readonly limit?: number;
  /**
   * An express-rate-limit store, e.g. rate-limit-redis's `RedisStore`, to share counts across
   * processes; one store (with its own prefix) per router. Default: a memory store per router.
   */
  readonly store?: RateLimitStore;
}

/** Options shared by both routers. */
export interface RouterOptionsBase<P extends Principal = Principal> {
  /** Identifies the caller. Required. */
  readonly authenticate: AuthenticateHook<P>;
  /** Resolves the instance and decides access. Required. */
  readonly lookupInstance: LookupInstanceHook<P>;
  /** Where hook failures and misconfigurations are reported. Default `console`. */
  readonly logger?: Logger;
  /** helmet's options for the answers of these routes, or `false` for none. Default: helmet's defaults. */
  readonly helmet?: HelmetOptions | false;
  /**
   * Maps a principal to the id written into events. Default: `principal.id`, else
   * `principal.instanceId`, when a string.
   */
  readonly principalId?: (principal: P) => string | undefined;
  /**
   * Per-instance rate limit: past `limit` requests in `windowMs` for one instance, 429
   * `RATE_LIMITED` with `Retry-After`. Default: off.
   */
  readonly rateLimit?: InstanceRateLimit | false;
}

/** Options of `createPasswordRouter(...)`, the guest-facing router. */
export interface PasswordRouterOptions<P extends Principal = Principal>
  extends RouterOptionsBase<P>,
    Omit<PasswordServiceOptions, 'logger'> {
  /** A shared `PasswordService`; excludes `store`, `ttl`, `maxBytes`, `format` and `onEvent`. */
  readonly service?: PasswordService;
  /** Metadata versions that serve `password`. Default: Nova's list and `latest`. */
  readonly versions?: readonly string[];
  /** Milliseconds a POST body may take to arrive before 408. Default 10000. */
  readonly bodyTimeout?: number;
}

/** Options of `createServerPasswordRouter(...)`, the owner-facing router. */
export interface ServerPasswordRouterOptions<P extends Principal = Principal> extends RouterOptionsBase<P> {
  /** The `PasswordService` the guest router writes to. Give this or `store`. */
  readonly service?: PasswordService;
  /** The store the guest router writes to, when no `service` is shared. */
  readonly store?: PasswordStore;
  /** Receives this router's audit events, when no `service` is shared. */
  readonly onEvent?: EventHandler;
}
