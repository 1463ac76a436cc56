import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PASSWORD_VERSIONS } from './versions';

/** Options of `exceptPasswordRoutes`. */
export interface ExceptPasswordRoutesOptions {
  /** The metadata versions the guest router serves, when its `versions` option replaced Nova's. */
  readonly versions?: readonly string[];
}

/**
 * Wraps a body parser (or any middleware) so it is skipped for the guest password route
 * (`.../<version>/password`) and runs for everything else: `app.use(exceptPasswordRoutes(
 * express.urlencoded()))`. Agents post the password form-encoded, and a parser that consumed it
 * leaves the router nothing it can always read.
 */
export function exceptPasswordRoutes(middleware: RequestHandler, options: ExceptPasswordRoutesOptions = {}): RequestHandler {
  const versions = new Set(options.versions ?? PASSWORD_VERSIONS);
  const isPasswordPath = (path: string): boolean => {
    const segments = path.split('/').filter((segment) => segment !== '');
    return segments.at(-1) === 'password' && versions.has(segments.at(-2) ?? '');
  };
  return (req: Request, res: Response, next: NextFunction) => {
    if (isPasswordPath(req.path)) {
      next();
      return;
    }
    return middleware(req, res, next);
  };
}
