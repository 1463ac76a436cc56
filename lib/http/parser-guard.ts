import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GUEST_PASSWORD_PATH } from './paths';
import { PASSWORD_VERSIONS } from './versions';

/** Options of `exceptPasswordRoutes`. */
export interface ExceptPasswordRoutesOptions {
  /** The metadata versions the guest router serves, when its `versions` option replaced Nova's. */
  readonly versions?: readonly string[];
}

/**
 * Wraps a body parser (or any middleware) so it is skipped for the guest password route
 * (`.../<version>/password`, matched and decoded as the router matches it, so `l%61test` is
 * `latest` here too) and runs for everything else: `app.use(exceptPasswordRoutes(
 * express.urlencoded()))`. A parser that ran first would read a body up to its own limit, past the
 * router's `maxBytes`, and leave the router nothing it can always read. A version whose escapes do
 * not decode is skipped too: the router answers it 400 without reading the body.
 */
export function exceptPasswordRoutes(middleware: RequestHandler, options: ExceptPasswordRoutesOptions = {}): RequestHandler {
  const versions = new Set(options.versions ?? PASSWORD_VERSIONS);
  return (req: Request, res: Response, next: NextFunction) => {
    const route = GUEST_PASSWORD_PATH.match(req.path, false);
    if (route === 'malformed' || (route !== undefined && versions.has(route.version))) {
      next();
      return;
    }
    return middleware(req, res, next);
  };
}
