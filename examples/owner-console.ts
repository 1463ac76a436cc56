import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { PasswordStore } from '../lib';

/**
 * The console page's policy: its own script, style and API calls, nothing inline, no forms posted,
 * never framed.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
  "form-action 'none'; frame-ancestors 'none'";

/** What the console needs from the demo host. */
export interface OwnerConsoleOptions {
  /** The demo's owners by token. */
  tokens: ReadonlyMap<string, { id: string; projectId: string; role: 'reader' | 'member' }>;
  instances: ReadonlyArray<{ id: string; name: string; projectId: string }>;
  /** The service's store: the listing asks it whether a password is set, without reading one out. */
  store: PasswordStore;
  /** Where the compute API is mounted. */
  computePrefix: string;
}

/** The repository root (the folder with package.json), from the source or the compiled file. */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const pageSecurityHeaders = helmet({ contentSecurityPolicy: false });

/** helmet's headers for pages, with the console's own CSP (exactly as written above) and no caching. */
function pageHeaders(req: Request, res: Response, next: NextFunction): void {
  pageSecurityHeaders(req, res, (error?: unknown) => {
    if (error !== undefined) {
      next(error);
      return;
    }
    res.set({ 'Content-Security-Policy': CONSOLE_CSP, 'Cache-Control': 'no-store' });
    next();
  });
}

/**
 * The demo's owner console at `/` (the page, its stylesheet and its module, and the browser module
 * it imports), with two demo-only JSON routes the page needs: `GET /demo/owners` (the demo's tokens,
 * so a visitor can pick one) and `GET {computePrefix}/servers` (the caller's project's servers and
 * whether each has a password). None of this is part of the library.
 */
export function createOwnerConsole(options: OwnerConsoleOptions): Router {
  const root = repositoryRoot();
  const router = express.Router();
  const statics = { index: false, redirect: false, fallthrough: false } as const;

  router.get('/', pageHeaders, (_req, res) => res.sendFile(join(root, 'examples', 'console', 'index.html')));
  // No icon: answered so that browsers asking for one log no error.
  router.get('/favicon.ico', pageHeaders, (_req, res) => res.status(204).end());
  router.get('/console/console.css', pageHeaders, (_req, res) => res.sendFile(join(root, 'examples', 'console', 'console.css')));
  router.use('/console', pageHeaders, express.static(join(root, 'dist', 'examples', 'console'), statics));
  router.use('/lib/browser', pageHeaders, express.static(join(root, 'dist', 'lib', 'browser'), statics));

  router.get('/demo/owners', pageHeaders, (_req, res) => {
    res.json([...options.tokens].map(([token, owner]) => ({ token, ...owner })));
  });
  router.get(`${options.computePrefix}/servers`, pageHeaders, async (req, res) => {
    const owner = options.tokens.get(req.get('x-auth-token') ?? '');
    if (owner === undefined) {
      res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'Authentication is required.' } });
      return;
    }
    try {
      const mine = options.instances.filter((instance) => instance.projectId === owner.projectId);
      const servers = await Promise.all(
        mine.map(async ({ id, name }) => ({ id, name, has_password: (await options.store.get(id)) !== undefined })),
      );
      res.json({ servers });
    } catch {
      res.status(503).json({ error: { code: 'STORE_UNAVAILABLE', message: 'The password store did not answer.' } });
    }
  });
  return router;
}
