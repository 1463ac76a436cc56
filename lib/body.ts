import type { Request } from 'express';
import getRawBody from 'raw-body';
import { passwordError } from './errors';
import { withTimeout } from './timeout';
import type { Logger } from './types';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Refuses, before any byte is read, a body this route will never accept. */
export function checkBodyHeaders(req: Request, maxBytes: number): void {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw passwordError('UNSUPPORTED_ENCODING', `Content-Encoding ${encoding} is not accepted; send the body as is.`);
  }
  const length = Number(req.headers['content-length']);
  if (length > maxBytes) {
    throw passwordError('PAYLOAD_TOO_LARGE', `The body is ${length} bytes; the limit is ${maxBytes}.`);
  }
}

/** What `readBody` needs besides the request. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * The body a host's parser has already consumed: usable when it kept the raw bytes or text
 * (`express.raw()`, `express.text()`), otherwise a misconfiguration to report once.
 */
function alreadyParsed(req: Request, logger: Logger, warned: { parsedBody: boolean }): Buffer {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (!warned.parsedBody) {
    warned.parsedBody = true;
    logger.error(
      'express-metadata-password: the POST body was consumed by a body parser (express.json() or ' +
        'express.urlencoded()) before the password router. Mount body parsers after the router, or on ' +
        'their own paths.',
    );
  }
  throw passwordError('INTERNAL', 'The password body could not be read.');
}

/**
 * Makes a reader of raw bodies as strict UTF-8: 413 as soon as a body passes `maxBytes`, 408 when it
 * is slower than `timeoutMs`, 400 when it is not UTF-8.
 */
export function createBodyReader(limits: BodyLimits): (req: Request) => Promise<string> {
  const warned = { parsedBody: false };
  return async (req) => {
    const bytes = req.readableEnded ? alreadyParsed(req, limits.logger, warned) : await readStream(req, limits);
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
