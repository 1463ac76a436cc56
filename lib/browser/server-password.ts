import { ServerPasswordError } from './errors.js';
import { cleanServerText } from './server-text.js';
import type { FetchFunction, GetServerPasswordRequest, ServerPasswordRequest } from './types.js';

const SERVER_ID = /^[A-Za-z0-9._~-]{1,255}$/;
const ONLY_DOTS = /^\.+$/;
/** The most of an answer read: a password answer is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** How long a call may take, answer read included, unless `timeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The longest deadline a timer can hold (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The longest `wait`, in seconds: a day. */
const MAX_WAIT_SECONDS = 86_400;
/** When the server answered no password at once (it holds no wait), how long before asking again. */
const POLL_PAUSE_MS = 5000;

function invalidRequest(message: string): ServerPasswordError {
  return new ServerPasswordError(0, undefined, message);
}

function passwordUrl(request: ServerPasswordRequest): string {
  const { url, serverId, token } = request;
  if (typeof url !== 'string' || url === '') throw invalidRequest('getServerPassword: `url` must be the compute API base URL.');
  if (typeof serverId !== 'string' || !SERVER_ID.test(serverId) || ONLY_DOTS.test(serverId)) {
    throw invalidRequest(
      "The server id must be 1 to 255 characters of A-Z, a-z, 0-9, '.', '_', '~' and '-', and not only dots.",
    );
  }
  if (typeof token !== 'string' || token === '') throw invalidRequest('A token (`X-Auth-Token`) is required.');
  return `${url.replace(/\/+$/, '')}/servers/${serverId}/os-server-password`;
}

function timeoutOf(request: ServerPasswordRequest): number {
  const { timeoutMs = DEFAULT_TIMEOUT_MS } = request;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalidRequest(`\`timeoutMs\` must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}.`);
  }
  return timeoutMs;
}

async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total > MAX_ANSWER_BYTES) {
      void reader.cancel().catch(() => undefined);
      throw new ServerPasswordError(response.status, undefined, `The answer is larger than ${MAX_ANSWER_BYTES} bytes.`);
    }
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** The message of an error body: `{"error": {"code", "message"}}`, or Nova's `{"<kind>": {"message"}}`. */
function failure(status: number, statusText: string, text: string): ServerPasswordError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, { code?: unknown; message?: unknown }>;
    const first = body[Object.keys(body)[0]];
    if (typeof first?.message === 'string') message = first.message;
    if (typeof first?.code === 'string') code = first.code;
  } catch {
    // Not JSON: a proxy's page or an empty body; the status says enough.
  }
  const shown = cleanServerText(message ?? `HTTP ${status} ${statusText}`.trim());
  return new ServerPasswordError(status, code === undefined ? undefined : cleanServerText(code), shown);
}

/**
 * A redirect, which is not followed: the token would go along to wherever it points. Browsers
 * answer `redirect: 'manual'` with an opaque response of status 0; Node with the 3xx itself.
 */
function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}

function redirectRefused(response: Response): ServerPasswordError {
  const status = response.type === 'opaqueredirect' ? 0 : response.status;
  return new ServerPasswordError(
    status,
    undefined,
    'The compute API answered with a redirect, which is not followed: it would carry the token elsewhere. ' +
      'Check `url`: it must be where the owner API answers itself.',
  );
}

/** Sends one request and reads its answer, or rejects once `signal` aborts. */
async function exchange(fetchFunction: FetchFunction, target: string, init: RequestInit): Promise<Exchanged> {
  let response: Response;
  try {
    response = await fetchFunction(target, init);
  } catch (error) {
    throw new ServerPasswordError(0, undefined, `The compute API did not answer: ${cleanServerText(String((error as Error)?.message))}`);
  }
  if (isRedirect(response)) {
    void response.body?.cancel().catch(() => undefined);
    throw redirectRefused(response);
  }
  const text = await readCapped(response);
  if (!response.ok) throw failure(response.status, response.statusText, text);
  const waited = /^\s*wait=\d+\s*$/i.test(response.headers.get('preference-applied') ?? '');
  return { status: response.status, text, waited };
}

/** An answer of the owner API: its status, its body, and whether it says it held the request. */
interface Exchanged {
  readonly status: number;
  readonly text: string;
  readonly waited: boolean;
}

function cancelled(): ServerPasswordError {
  return new ServerPasswordError(0, undefined, 'The call was cancelled.');
}

/**
 * One call of the owner API with the token: never follows a redirect, reads at most 64 KiB of the
 * answer, and gives up (aborting the request) after `timeoutMs`, answer read included.
 */
async function call(
  request: ServerPasswordRequest,
  method: 'GET' | 'DELETE',
  waitSeconds = 0,
  signal?: AbortSignal,
): Promise<Exchanged> {
  const target = passwordUrl(request);
  const timeoutMs = timeoutOf(request) + waitSeconds * 1000;
  const fetchFunction: FetchFunction = request.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const connection = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onCancel: (() => void) | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    onCancel = () => {
      connection.abort();
      reject(cancelled());
    };
    if (signal?.aborted) onCancel();
    else signal?.addEventListener('abort', onCancel, { once: true });
    timer = setTimeout(() => {
      connection.abort();
      reject(
        new ServerPasswordError(
          0,
          undefined,
          `The compute API did not answer within ${timeoutMs / 1000} s (\`timeoutMs\`): it is down, overloaded or too slow.`,
        ),
      );
    }, timeoutMs);
  });
  const exchanged = exchange(fetchFunction, target, {
    method,
    headers: {
      'X-Auth-Token': request.token,
      Accept: 'application/json',
      ...(waitSeconds > 0 && { Prefer: `wait=${waitSeconds}` }),
    },
    redirect: 'manual',
    signal: connection.signal,
  });
  try {
    return await Promise.race([exchanged, deadline]);
  } finally {
    clearTimeout(timer);
    if (onCancel) signal?.removeEventListener('abort', onCancel);
    // The loser of the race settles later: nothing may report it as unhandled.
    exchanged.catch(() => undefined);
  }
}

function waitOf(request: GetServerPasswordRequest): number | undefined {
  const { wait } = request;
  if (wait === undefined) return undefined;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 1 || wait > MAX_WAIT_SECONDS) {
    throw invalidRequest(`\`wait\` must be a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}.`);
  }
  return wait;
}

/** Resolves after `ms`, or rejects as cancelled once `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Reads one server's encrypted password from the owner API
 * (`GET {url}/servers/{serverId}/os-server-password`, with `X-Auth-Token`). Never follows a
 * redirect (the token would go along) and gives up after `timeoutMs` (default 30,000). With
 * `wait`, waits up to that many seconds for the guest to post it: the server holds each request
 * (`Prefer: wait`) and the request is repeated until the time is up (a server that holds nothing is
 * asked again every 5 s).
 *
 * @returns The base64 ciphertext, or `''` when no password has been set (by the end of `wait`).
 * @throws ServerPasswordError (as a rejection) with the server's status, code and message when it
 *   refuses (401, 403, 404, ...), or status 0 when the request is invalid, no answer came in time,
 *   the call was cancelled through `signal`, or the answer was a redirect (its own status in Node,
 *   0 in browsers, which hide it).
 */
export async function getServerPassword(request: GetServerPasswordRequest): Promise<string> {
  const wait = waitOf(request);
  const deadline = wait === undefined ? undefined : Date.now() + wait * 1000;
  for (;;) {
    const seconds = deadline === undefined ? 0 : Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const { status, text, waited } = await call(request, 'GET', seconds, request.signal);
    let password: unknown;
    try {
      password = (JSON.parse(text) as { password?: unknown }).password;
    } catch {
      password = undefined;
    }
    if (typeof password !== 'string') {
      throw new ServerPasswordError(status, undefined, 'The answer is not `{"password": "..."}`: is `url` the compute API?');
    }
    const left = deadline === undefined ? 0 : deadline - Date.now();
    if (password !== '' || left <= 0) return password;
    if (!waited) await pause(Math.min(POLL_PAUSE_MS, left), request.signal);
  }
}

/**
 * Clears one server's password (`DELETE {url}/servers/{serverId}/os-server-password`), so its
 * guest may post a new one. Resolves when the server answered 2xx; never follows a redirect (the
 * DELETE is not sent again elsewhere) and gives up after `timeoutMs` (default 30,000).
 *
 * @throws ServerPasswordError (as a rejection), as `getServerPassword`.
 */
export async function clearServerPassword(request: ServerPasswordRequest): Promise<void> {
  await call(request, 'DELETE');
}
