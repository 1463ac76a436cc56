import type { Request } from 'express';
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { HelmetOptions } from 'helmet';
import type { PasswordError } from './core/errors';

/** A value or a promise of it: every hook may be synchronous or asynchronous. */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * What the host's `authenticate` hook returns for a caller it recognises: any non-null object. The
 * library only reads `id` or `instanceId` (when strings) to name the caller in events, unless the
 * `principalId` option says otherwise.
 */
export type Principal = object;

/**
 * The stored form the guest router accepts.
 * - `'base64'`: standard alphabet, padded, CR/LF removed, decoding to 64 to 1024 bytes (one RSA block).
 * - `'text'`: any UTF-8 text without control characters.
 */
export type PasswordFormat = 'base64' | 'text';

/** The instance a request is about, as the host's `lookupInstance` hook identifies it. */
export interface InstanceRef {
  /**
   * The key the password is stored under: the instance's stable id (a UUID in Nova), 1 to 255
   * characters of well-formed UTF-16.
   */
  readonly id: string;
  /**
   * The instance's SSH public key (an `ssh-rsa ...` line or a PEM public key), or all of them, when
   * the host has them. With it, the guest router (format `'base64'`) accepts only a ciphertext that
   * is exactly one RSA block for one of the instance's RSA keys. Keys that are not RSA (ed25519,
   * ECDSA) are skipped; when none is RSA, every POST is refused (400 `INVALID_PASSWORD`: the agent
   * needs an RSA key). An empty list means no check. A string that is no key at all is the host's
   * mistake: 500, logged once.
   */
  readonly publicKey?: string | readonly string[];
}

/** What a guest asks of its own instance's password. */
export type GuestAction = 'read' | 'set';

/** What an owner asks of a server's password. */
export type OwnerAction = 'read' | 'clear';

/** The argument of the guest router's `lookupInstance`: the caller means its own instance. */
export interface GuestLookupContext<P extends Principal = Principal> {
  /** What `authenticate` returned for this request. */
  readonly principal: P;
  /** What the guest wants to do. */
  readonly action: GuestAction;
  /** The Express request, for anything else the host needs. */
  readonly req: Request;
}

/** The argument of the owner router's `lookupInstance`: decide ownership and roles here. */
export interface OwnerLookupContext<P extends Principal = Principal> {
  /** What `authenticate` returned for this request. */
  readonly principal: P;
  /** The `:serverId` of the path, already checked against the server-id rule. */
  readonly instanceId: string;
  /** What the caller wants to do: e.g. readers read, members clear. */
  readonly action: OwnerAction;
  /** The Express request, for anything else the host needs. */
  readonly req: Request;
}

/**
 * Identifies the caller. Only a non-null object authenticates: anything else (`null`, `undefined`,
 * `false`, `0`, `''`, ...) refuses (guest router: 403 `FORBIDDEN`, owner router: 401
 * `UNAUTHENTICATED`). Throw a `PasswordError` to answer with its status.
 */
export type AuthenticateHook<P extends Principal = Principal> = (req: Request) => Awaitable<P | null | undefined>;

/**
 * Resolves the instance a request is about and decides whether the principal may perform the
 * action on it. Resolve a falsy value for 404 `INSTANCE_NOT_FOUND` (also the right answer for
 * "exists but not yours"), or throw a `PasswordError` (e.g. 403 `FORBIDDEN`) to answer specifically.
 */
export type LookupInstanceHook<C> = (context: C) => Awaitable<InstanceRef | null | undefined>;

/** What a guest asks of the password server about its own instance: fetch a reset, or acknowledge it. */
export type ResetAction = 'fetch' | 'acknowledge';

/** The argument of the password-server router's `lookupInstance`: the caller means its own instance. */
export interface PasswordServerLookupContext<P extends Principal = Principal> {
  /** What `authenticate` returned for this request. */
  readonly principal: P;
  /** `'fetch'` for `send_my_password`, `'acknowledge'` for `saved_password`. */
  readonly action: ResetAction;
  /** The Express request, for anything else the host needs. */
  readonly req: Request;
}

/**
 * A 256-bit key for `PasswordResetService`'s encryption at rest: 32 bytes, or a string of 64 hex
 * digits, or base64 that decodes to 32 bytes (`openssl rand -base64 32`).
 */
export type EncryptionKey = Buffer | string;

/** The kinds of audit event; see `PasswordEvent`. */
export type PasswordEventType =
  | 'password.set'
  | 'password.read'
  | 'password.conflict'
  | 'password.cleared'
  | 'password.rejected'
  | 'access.denied'
  | 'store.unavailable'
  | 'reset.queued'
  | 'reset.delivered'
  | 'reset.applied'
  | 'reset.cancelled'
  | 'reset.unreadable';

/** An audit event. It never carries the password. */
export interface PasswordEvent {
  /**
   * What happened. The `reset.*` events come from `PasswordResetService`: `reset.queued` (a reset
   * waits for the guest), `reset.delivered` (the guest fetched it), `reset.applied` (the guest
   * acknowledged it), `reset.cancelled` (the host cancelled it), `reset.unreadable` (a stored value
   * no key decrypts).
   */
  readonly type: PasswordEventType;
  /** The instance concerned, when known. */
  readonly instanceId?: string;
  /** The acting principal's id (see the `principalId` option), when known. */
  readonly principalId?: string;
  /**
   * Why: the error code for `password.rejected` and `access.denied` (`BODY_ALREADY_PARSED` when a
   * host's body parser consumed a POST), `'overwrite'` for a `password.set` made by
   * `PasswordService.overwrite`, the store error's message for `store.unavailable`.
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

/**
 * Receives every audit event. It may be async; a throw or a rejection is logged and never changes
 * the answer.
 */
export type EventHandler = (event: PasswordEvent) => unknown;

/** Where diagnostics go. `console` fits; a throwing or rejecting logger is ignored. */
export interface Logger {
  warn(...args: unknown[]): unknown;
  error(...args: unknown[]): unknown;
}

/** Who did something, for the audit events of `PasswordService` calls. */
export interface ActionContext {
  /** The acting principal's id. */
  readonly principalId?: string;
  /** The request id to correlate the event with. */
  readonly requestId?: string;
}

/** Who stored a value and, optionally, the instance's key the value must be encrypted for. */
export interface SetContext extends ActionContext {
  /**
   * The instance's SSH public key or keys (as `InstanceRef.publicKey`). With format `'base64'`,
   * the value must then be exactly one RSA block for one of its RSA keys (the guest router passes
   * what `lookupInstance` resolved).
   */
  readonly publicKey?: string | readonly string[];
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
  /**
   * Resolves at the next write (a set-once that stored, an overwrite) for `id`, made by any process
   * sharing the store; rejects when `signal` aborts (with its reason) or the store fails. It may
   * also resolve when the store could have missed a write (e.g. as it starts listening), so the
   * caller reads again after each wake. Optional: a store without it is polled with `get` about
   * once a second while someone waits (`Prefer: wait` on the owner router).
   */
  watch?(id: string, signal: AbortSignal): Promise<void>;
  /** Releases timers, listeners or connections the store owns (not those the host passed in). */
  close?(): Promise<void>;
}

/** Per-instance rate limit of a router (`rateLimit` option), built on express-rate-limit. */
export interface InstanceRateLimit {
  /** The window in milliseconds. Default 60000. */
  readonly windowMs?: number;
  /**
   * Requests per window: per instance on the guest router, per caller and instance on the owner
   * router (one reader cannot lock a project's members out). Default 10.
   */
  readonly limit?: number;
  /**
   * An express-rate-limit store, e.g. rate-limit-redis's `RedisStore`, to share counts across
   * processes; one store (with its own prefix) per router. Default: a memory store per router.
   */
  readonly store?: RateLimitStore;
}

/**
 * Makes the JSON body of an error answer from the error, for hosts whose API has its own error
 * shape, e.g. Nova's `({ status, code, message }) => ({ itemNotFound: { code: status, message } })`.
 */
export type ErrorBodyHook = (error: PasswordError) => object;

/** Options both routers take. */
export interface RouterOptionsBase<P extends Principal, C> {
  /** Identifies the caller. Required. */
  readonly authenticate: AuthenticateHook<P>;
  /** Resolves the instance and decides access. Required. */
  readonly lookupInstance: LookupInstanceHook<C>;
  /** Where hook failures and misconfigurations are reported. Default `console`. */
  readonly logger?: Logger;
  /**
   * helmet's options for the answers of these routes, or `false` for none. Default: helmet set for
   * API answers (text and JSON, never rendered as pages); the README lists each header.
   */
  readonly helmet?: HelmetOptions | false;
  /**
   * Maps a principal to the id written into events. Default: `principal.id`, else
   * `principal.instanceId`, when a string.
   */
  readonly principalId?: (principal: P) => Awaitable<string | undefined>;
  /**
   * Rate limit: past `limit` requests in `windowMs`, 429 `RATE_LIMITED` with `Retry-After`.
   * Default: off.
   */
  readonly rateLimit?: InstanceRateLimit | false;
  /** The JSON body of error answers. Default `{"error": {"code", "message"}}`. */
  readonly errorBody?: ErrorBodyHook;
}
