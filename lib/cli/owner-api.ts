import { isServerId } from '../server-id';
import { CliError, usageError, type Values } from './args';
import { readInputFile } from './input';
import { PROGRAM, TOKEN_ENV } from './names';

const REQUEST_TIMEOUT_MS = 30_000;
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

/** The token from --token-file, else --token, else the environment, checked to fit in a header. */
export function tokenFrom(values: Values): string {
  const { token, 'token-file': tokenFile } = values;
  if (typeof token === 'string' && typeof tokenFile === 'string') {
    throw usageError('pass either --token or --token-file, not both', 'get');
  }
  const [value, source] =
    typeof tokenFile === 'string'
      ? [readInputFile(tokenFile, 'token file').toString('utf8').trim(), `token file '${tokenFile}'`]
      : typeof token === 'string'
        ? [token, '--token']
        : [process.env[TOKEN_ENV] ?? '', TOKEN_ENV];
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

/** Server text shown on stderr: printable, and short. */
function printable(text: string): string {
  return text.replace(/[^\P{Cc}]/gu, ' ').slice(0, 300);
}

function describeErrorAnswer(status: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    const first = parsed !== null && typeof parsed === 'object' ? Object.values(parsed)[0] : undefined;
    const { code, message } = (first ?? {}) as { code?: unknown; message?: unknown };
    if (typeof message === 'string') {
      const codeText = typeof code === 'string' ? ` ${printable(code)}` : '';
      return `the server answered ${status}${codeText}: ${printable(message)}`;
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return `the server answered ${status}`;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** GETs the password's ciphertext with the token; never follows a redirect, which would carry the token along. */
export async function fetchCiphertext(url: URL, token: string, serverId: string): Promise<string> {
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    process.stderr.write(`${PROGRAM}: warning: sending the token to ${url.host} over plain http\n`);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'X-Auth-Token': token, Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(`cannot reach ${url.origin}: ${cause}`);
  }
  const body = await response.text();
  if (response.status >= 300 && response.status < 400) {
    throw new CliError(`the server answered ${response.status} (a redirect, not followed with the token): check --url`);
  }
  if (!response.ok) throw new CliError(describeErrorAnswer(response.status, body));
  let password: unknown;
  try {
    password = (JSON.parse(body) as { password?: unknown }).password;
  } catch {
    password = undefined;
  }
  if (typeof password !== 'string') {
    throw new CliError(`the server answered ${response.status} without {"password": ...}: check --url`);
  }
  if (password === '') {
    throw new CliError(
      `no password is set (yet) for server ${serverId}: the guest agent has not posted one, or it was cleared. ` +
        'Try again once the instance has finished booting.',
    );
  }
  return password;
}
