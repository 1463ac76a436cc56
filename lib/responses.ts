import type { Request, Response } from 'express';
import { PasswordError } from './errors';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** True when the request announces a body that nobody has read yet. */
function hasUnreadBody(req: Request): boolean {
  if (req.readableEnded) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(req: Request, res: Response, status: number, type: string | undefined, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  if (type) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // An answer given before the body was read closes the connection, so Node does not drain an
  // unbounded body to keep it alive.
  if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
  res.end(body);
}

/** Answers `text/plain; charset=utf-8`. */
export function sendText(req: Request, res: Response, status: number, body: string): void {
  send(req, res, status, TEXT_TYPE, body);
}

/** Answers JSON. */
export function sendJson(req: Request, res: Response, status: number, body: unknown): void {
  send(req, res, status, JSON_TYPE, JSON.stringify(body));
}

/** Answers with no body (204, or 200 for a stored password). */
export function sendEmpty(req: Request, res: Response, status: number): void {
  if (status === 204) {
    res.statusCode = 204;
    res.end();
    return;
  }
  send(req, res, status, undefined, '');
}

/** Answers `{"error": {"code", "message"}}` with the error's status and `Retry-After` when set. */
export function sendError(req: Request, res: Response, error: PasswordError): void {
  if (error.retryAfter !== undefined && !res.headersSent) {
    res.setHeader('Retry-After', String(error.retryAfter));
  }
  sendJson(req, res, error.status, { error: { code: error.code, message: error.message } });
}
