/**
 * RSA encryption padding.
 * - `'pkcs1'`: RSAES-PKCS1-v1_5, what cloudbase-init and Nova use (the default).
 * - `'oaep-sha256'`: RSAES-OAEP with SHA-256 and MGF1-SHA256, for agents that choose it.
 */
export type PasswordPadding = 'pkcs1' | 'oaep-sha256';

/** Options of `decryptPassword`. */
export interface DecryptPasswordOptions {
  /** The padding the ciphertext was made with; default `'pkcs1'`. */
  readonly padding?: PasswordPadding;
}

/** The `fetch` the owner API calls go through: the platform's, or one the host supplies. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** What `getServerPassword` and `clearServerPassword` need to reach one server's password. */
export interface ServerPasswordRequest {
  /** The compute API's base URL, where the owner router is mounted (`https://cloud.example/compute/v2.1`). */
  readonly url: string;
  /** The server (instance) id: 1 to 255 characters of A-Z, a-z, 0-9, `.`, `_`, `~` and `-`, not only dots. */
  readonly serverId: string;
  /** The owner's token, sent as `X-Auth-Token`. */
  readonly token: string;
  /** The `fetch` to call; default the platform's `globalThis.fetch`. It is called with `redirect: 'manual'` and a `signal`. */
  readonly fetch?: FetchFunction;
  /**
   * How long the call may take, the answer read included, in milliseconds (default 30,000); then
   * the request is aborted and the call rejects with `ServerPasswordError` (status 0).
   */
  readonly timeoutMs?: number;
}

/** What `getServerPassword` takes: the server's password, and how long to wait for it. */
export interface GetServerPasswordRequest extends ServerPasswordRequest {
  /**
   * Seconds to wait for the guest to post its password when none is set yet (1 to 86,400): the
   * server is asked to hold each request (`Prefer: wait`), and the request is repeated until this
   * many seconds have passed; then the call resolves `''`. Each request's own deadline is
   * `timeoutMs` plus its wait. Default: no wait.
   */
  readonly wait?: number;
  /** Aborts the call (a wait included): it then rejects with `ServerPasswordError` (status 0). */
  readonly signal?: AbortSignal;
}
