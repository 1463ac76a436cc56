import { isServerId } from '../core/server-id';
import { withTimeout } from '../core/timeout';
import type { Values } from './args';
import { readInputFile } from './input';
import { CliError, TOKEN_ENV, usageError, warn, type ProgramIo } from './program';
import { cleanServerText } from './server-text';

/** The most of an answer read: the owner API's answers are a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;
const CHECK_URL =
  'check --url: it is the base the API serves /servers/ID/os-server-password under, e.g. ' +
  'https://cloud.example/compute/v2.1';
/** What the network causes fetch reports mean, for the codes a wrong URL or a down API give. */
const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens there',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved now',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_SOCKET: 'the server closed the connection',
  HPE_INVALID_CONSTANT: 'the answer is not HTTP',
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate is signed by an unknown authority",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host name",
};
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

/** The token from --token-file, else --token, else the environment, checked to fit in a header. */
export function tokenFrom(io: ProgramIo, values: Values): string {
  const { token, 'token-file': tokenFile } = values;
  if (typeof token === 'string' && typeof tokenFile === 'string') {
    throw usageError('pass either --token or --token-file, not both', 'get');
  }
  const [value, source] =
    typeof tokenFile === 'string'
      ? [readInputFile(io, tokenFile, 'token file', 'secret').toString('utf8').trim(), `token file '${tokenFile}'`]
      : typeof token === 'string'
        ? [token, '--token']
        : [io.env[TOKEN_ENV] ?? '', TOKEN_ENV];
  if (value === '') {
    if (source === TOKEN_ENV) throw usageError(`no token: set ${TOKEN_ENV}, or pass --token-file FILE`, 'get');
    throw new CliError(`the token from ${source} is empty`);
  }
  if (!HEADER_SAFE_TOKEN.test(value)) {
    throw new CliError(`the token from ${source} holds spaces or control characters; a header cannot carry it`);
  }
  return value;
}

/** BASE/servers/ID/os-server-password, or a usage error for a URL or id that cannot safely make it. */
export function passwordUrl(base: string, serverId: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw usageError('--url must be an absolute http or https URL', 'get');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError('--url must be http or https', 'get');
  if (url.username !== '' || url.password !== '') {
    throw usageError('--url must not hold credentials; the token authenticates', 'get');
  }
  if (url.search !== '' || url.hash !== '') throw usageError('--url must not have a query or a fragment', 'get');
  if (!isServerId(serverId)) {
    throw usageError('--server must be a server id (letters, digits, . _ ~ -)', 'get');
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/servers/${serverId}/os-server-password`;
  return url;
}

/** An answer of the owner API: its status, and its body as text (at most `MAX_ANSWER_BYTES`). */
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Whether the server says it held the answer (`Preference-Applied: wait=N`). */
  readonly waited: boolean;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** When the server answered an empty password at once (it holds no wait), how long before asking again. */
const POLL_PAUSE_MS = 5000;

/**
 * GETs the password's ciphertext with the token; never follows a redirect, which would carry the
 * token along. Every failure names the request (`GET <url>`) and says why. With `waitSeconds`, asks
 * the server to hold the answer until the password is there (`Prefer: wait`), again and again until
 * that many seconds have passed (each request's own deadline being `timeoutMs` plus its wait), then
 * fails with exit status 3; a server that does not hold answers is asked again every 5 s.
 */
export async function fetchCiphertext(
  io: ProgramIo,
  url: URL,
  token: string,
  serverId: string,
  timeoutMs: number,
  waitSeconds?: number,
): Promise<string> {
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    warn(io, `sending the token to ${url.host} over plain http`);
  }
  const deadline = waitSeconds === undefined ? undefined : Date.now() + waitSeconds * 1000;
  for (;;) {
    const wait = deadline === undefined ? 0 : Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const { password, waited } = await fetchOnce(url, token, timeoutMs, wait);
    if (password !== '') return password;
    if (deadline === undefined) {
      throw new CliError(
        `no password is set (yet) for server ${serverId}: the guest agent has not posted one, or it was cleared. ` +
          'Try again once the instance has finished booting, or wait for it with --wait SECONDS.',
      );
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new CliError(
        `no password came for server ${serverId} within ${waitSeconds} s: the guest agent has not posted one yet.`,
        3,
      );
    }
    if (!waited) await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_PAUSE_MS, left)));
  }
}

/** One GET: the password (`''` for none), and whether the server held the answer as asked. */
async function fetchOnce(
  url: URL,
  token: string,
  timeoutMs: number,
  waitSeconds: number,
): Promise<{ password: string; waited: boolean }> {
  const request = `GET ${url.href}`;
  const connection = new AbortController();
  const deadlineMs = timeoutMs + waitSeconds * 1000;
  const answer = await withTimeout(fetchAnswer(url, token, request, connection, waitSeconds), deadlineMs, () => {
    connection.abort();
    const wait = waitSeconds > 0 ? ` (--timeout, plus the ${waitSeconds} s it asked the server to wait)` : ' (--timeout)';
    return new CliError(`${request}: no answer within ${deadlineMs / 1000} s${wait}; ${CHECK_URL}`);
  });
  return { password: passwordOf(answer, request), waited: answer.waited };
}

async function fetchAnswer(
  url: URL,
  token: string,
  request: string,
  connection: AbortController,
  waitSeconds: number,
): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        'X-Auth-Token': token,
        Accept: 'application/json',
        ...(waitSeconds > 0 && { Prefer: `wait=${waitSeconds}` }),
      },
      redirect: 'manual',
      signal: connection.signal,
    });
  } catch (error) {
    throw new CliError(`${request}: cannot reach ${url.host}: ${networkCause(error)}`);
  }
  const contentType = cleanServerText(response.headers.get('content-type') ?? 'no content type');
  const waited = /^\s*wait=\d+\s*$/i.test(response.headers.get('preference-applied') ?? '');
  return { status: response.status, contentType, waited, body: await readBody(response, request, connection) };
}

/** The network cause of a failed fetch: its code (`ECONNREFUSED`) and what the code means. */
function networkCause(error: unknown): string {
  let cause = (error as { cause?: unknown }).cause ?? error;
  // Node tries each address of a name in turn and reports an AggregateError of their failures.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code !== '') {
    const meaning = NETWORK_CAUSES[code] ?? (typeof message === 'string' ? message : undefined);
    return cleanServerText(meaning === undefined ? code : `${code}, ${meaning}`);
  }
  return cleanServerText(typeof message === 'string' && message !== '' ? message : String(cause));
}

/** The body as text, or a CliError (and the connection dropped) once it passes `MAX_ANSWER_BYTES`. */
async function readBody(response: Response, request: string, connection: AbortController): Promise<string> {
  const tooLarge = () => {
    connection.abort();
    return new CliError(
      `${request}: the answer is larger than ${MAX_ANSWER_BYTES / 1024} KiB, which no owner API answer is; ` +
        `stopped reading it; ${CHECK_URL}`,
    );
  };
  if (Number(response.headers.get('content-length')) > MAX_ANSWER_BYTES) throw tooLarge();
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${request}: the connection broke while the answer was read: ${networkCause(error)}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `{"error": {"code", "message"}}` (or Nova's `{"itemNotFound": {...}}`) of an error answer. */
function apiError(body: string): { code?: string; message: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const first = parsed !== null && typeof parsed === 'object' ? Object.values(parsed)[0] : undefined;
    const { code, message } = (first ?? {}) as { code?: unknown; message?: unknown };
    if (typeof message === 'string') return { code: typeof code === 'string' ? code : undefined, message };
  } catch {
    // Not JSON: not the owner API's answer.
  }
  return undefined;
}

function notTheApi(answer: Answer, request: string, what: string): CliError {
  return new CliError(
    `${request}: the server answered ${answer.status} ${what} (${answer.contentType}): ` +
      `this does not look like the compute API; ${CHECK_URL}`,
  );
}

/** The password an answer carries (`''` for none), or a CliError saying what the answer is instead. */
function passwordOf(answer: Answer, request: string): string {
  const { status, body } = answer;
  if (status >= 300 && status < 400) {
    throw new CliError(
      `${request}: the server answered ${status}, a redirect, not followed with the token; ${CHECK_URL}`,
    );
  }
  if (status < 200 || status >= 300) {
    const error = apiError(body);
    if (error === undefined) throw notTheApi(answer, request, "without the API's JSON error");
    const code = error.code === undefined ? '' : ` ${cleanServerText(error.code)}`;
    throw new CliError(`${request}: the server answered ${status}${code}: ${cleanServerText(error.message)}`);
  }
  let password: unknown;
  try {
    password = (JSON.parse(body) as { password?: unknown }).password;
  } catch {
    password = undefined;
  }
  if (typeof password !== 'string') throw notTheApi(answer, request, 'without {"password": ...}');
  return password;
}
