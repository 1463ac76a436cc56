import type { Request } from 'express';
import getRawBody from 'raw-body';
import { withoutLineBreaks } from '../core/base64';
import { passwordError } from '../core/errors';
import { everyInterval, type Diagnostics } from '../core/logging';
import { withTimeout } from '../core/timeout';
import type { PasswordFormat } from '../types';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;
// What a form parser leaves of canonical base64: '+' decoded to a space, CR/LF kept.
const FORM_DECODED_BASE64 = /^[A-Za-z0-9 /\r\n]+$/;
const PARSED_BODY_LOG_INTERVAL_MS = 60_000;

/**
 * The answer to a body a host's parser consumed beyond recovery: 500 `INTERNAL`, reported as
 * `password.rejected` with reason `BODY_ALREADY_PARSED`. Made once; it never varies.
 */
export const BODY_ALREADY_PARSED = passwordError('INTERNAL', 'The password body could not be read.');

/** Refuses, before any byte is read, a body this route will never accept. */
function checkBodyHeaders(req: Request, maxBytes: number): void {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw passwordError('UNSUPPORTED_ENCODING', `Content-Encoding ${encoding} is not accepted; send the body as is.`);
  }
  const length = Number(req.headers['content-length']);
  if (length > maxBytes) {
    throw passwordError('PAYLOAD_TOO_LARGE', `The body is ${length} bytes; the limit is ${maxBytes}.`);
  }
}

/** What a body reader needs besides the request. */
interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly format: PasswordFormat;
  readonly log: Diagnostics;
}

/**
 * Canonical base64 as it was before a form parser (`express.urlencoded()`) split it: the alphabet
 * has no `&` or `%`, so the form holds one key, the text before the first `=` with `+` turned into
 * spaces, and the rest of the padding as its value. Base64's length fixes how much padding there
 * was, so canonical base64 comes back byte for byte (an unpadded value comes back padded: the
 * form cannot tell them apart); `undefined` when the form cannot have come from base64.
 */
function base64FromForm(form: unknown): string | undefined {
  if (typeof form !== 'object' || form === null || Array.isArray(form)) return undefined;
  const entries = Object.entries(form);
  if (entries.length !== 1) return undefined;
  const [key, value] = entries[0];
  if (!FORM_DECODED_BASE64.test(key) || (value !== '' && value !== '=')) return undefined;
  const text = key.replaceAll(' ', '+');
  const remainder = withoutLineBreaks(text).length % 4;
  // '==' leaves '=' as the value; '=' and no padding leave an empty one.
  if (remainder === 1 || value !== (remainder === 2 ? '=' : '')) return undefined;
  return text + ['', '', '==', '='][remainder];
}

/**
 * The body a host's parser has already consumed: its raw bytes or text (`express.raw()`,
 * `express.text()`), base64 recovered from `express.urlencoded()`, or else a misconfiguration,
 * answered 500 and logged at most once a minute.
 */
function alreadyParsed(req: Request, limits: BodyLimits, logGate: () => boolean): Buffer {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (limits.format === 'base64' && FORM_TYPE.test(req.headers['content-type'] ?? '')) {
    const recovered = base64FromForm(body);
    if (recovered !== undefined) return Buffer.from(recovered, 'latin1');
    throw passwordError('INVALID_PASSWORD', 'The form-encoded body is not base64 (standard alphabet, padded, canonical).');
  }
  if (logGate()) {
    limits.log.error(
      'a password POST was consumed by a body parser (express.json() or express.urlencoded()) mounted ' +
        'before the password router, and could not be recovered. Mount parsers after the router, or wrap ' +
        'them: app.use(exceptPasswordRoutes(express.urlencoded())). (Said at most once a minute.)',
    );
  }
  throw BODY_ALREADY_PARSED;
}

/**
 * Makes a reader of raw bodies as strict UTF-8: 415 for a Content-Encoding, 413 from Content-Length
 * before reading or as soon as a body passes `maxBytes`, 408 when it is slower than `timeoutMs`, 400
 * when it is not UTF-8. It runs once the caller is known, so its answers never reach a stranger.
 */
export function createBodyReader(limits: BodyLimits): (req: Request) => Promise<string> {
  const logGate = everyInterval(PARSED_BODY_LOG_INTERVAL_MS);
  return async (req) => {
    checkBodyHeaders(req, limits.maxBytes);
    const bytes = req.readableEnded ? alreadyParsed(req, limits, logGate) : await readStream(req, limits);
    try {
      return utf8.decode(bytes);
    } catch {
      throw passwordError('INVALID_PASSWORD', 'The body is not valid UTF-8.');
    }
  };
}

async function readStream(req: Request, { maxBytes, timeoutMs }: BodyLimits): Promise<Buffer> {
  const body = getRawBody(req, { limit: maxBytes, length: req.headers['content-length'] });
  try {
    return await withTimeout(body, timeoutMs, () => {
      req.pause();
      return passwordError('REQUEST_TIMEOUT', `The body did not arrive within ${timeoutMs} ms.`);
    });
  } catch (error) {
    throw translateReadError(error, maxBytes);
  }
}

function translateReadError(error: unknown, maxBytes: number): unknown {
  switch ((error as { type?: string }).type) {
    case 'entity.too.large':
      return passwordError('PAYLOAD_TOO_LARGE', `The body passed the limit of ${maxBytes} bytes.`);
    case 'request.size.invalid':
      return passwordError('BAD_REQUEST', 'The body did not match its Content-Length.');
    case 'request.aborted':
      return passwordError('BAD_REQUEST', 'The client aborted the request.');
    default:
      return error;
  }
}
