import { ServerPasswordError } from './errors.js';
import type { FetchFunction, ServerPasswordRequest } from './types.js';

const SERVER_ID = /^[A-Za-z0-9._~-]{1,255}$/;
const ONLY_DOTS = /^\.+$/;
/** The most of an answer read: a password answer is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Control and bidirectional formatting characters, removed from server text before it is shown. */
const UNSAFE_TEXT = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

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
      await reader.cancel();
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
  const shown = (message ?? `HTTP ${status} ${statusText}`.trim()).replace(UNSAFE_TEXT, '').slice(0, 500);
  return new ServerPasswordError(status, code?.replace(UNSAFE_TEXT, ''), shown);
}

async function call(request: ServerPasswordRequest, method: 'GET' | 'DELETE'): Promise<{ status: number; text: string }> {
  const target = passwordUrl(request);
  const fetchFunction: FetchFunction = request.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await fetchFunction(target, {
      method,
      headers: { 'X-Auth-Token': request.token, Accept: 'application/json' },
    });
  } catch (error) {
    throw new ServerPasswordError(0, undefined, `The compute API did not answer: ${(error as Error).message}`);
  }
  const text = await readCapped(response);
  if (!response.ok) throw failure(response.status, response.statusText, text);
  return { status: response.status, text };
}

/**
 * Reads one server's encrypted password from the owner API
 * (`GET {url}/servers/{serverId}/os-server-password`, with `X-Auth-Token`).
 *
 * @returns The base64 ciphertext, or `''` when no password has been set.
 * @throws ServerPasswordError (as a rejection) with the server's status, code and message when it
 *   refuses (401, 403, 404, ...), or status 0 when the request is invalid or no answer came.
 */
export async function getServerPassword(request: ServerPasswordRequest): Promise<string> {
  const { status, text } = await call(request, 'GET');
  let password: unknown;
  try {
    password = (JSON.parse(text) as { password?: unknown }).password;
  } catch {
    password = undefined;
  }
  if (typeof password !== 'string') {
    throw new ServerPasswordError(status, undefined, 'The answer is not `{"password": "..."}`: is `url` the compute API?');
  }
  return password;
}

/**
 * Clears one server's password (`DELETE {url}/servers/{serverId}/os-server-password`), so its
 * guest may post a new one. Resolves when the server answered 2xx.
 *
 * @throws ServerPasswordError (as a rejection), as `getServerPassword`.
 */
export async function clearServerPassword(request: ServerPasswordRequest): Promise<void> {
  await call(request, 'DELETE');
}
