import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet set for API answers, which are text and JSON and never rendered as pages: a policy that
 * allows nothing to load or frame them, no sniffing, no referrer. None of helmet's page-only headers
 * (script and style sources, XSS filter, DNS prefetch, download options, cross-domain policies,
 * origin clustering, opener, embedder and resource policies), which mean nothing on a `text/plain`
 * password; nor Strict-Transport-Security, which speaks for the whole origin and so belongs to the
 * host's TLS front, not to two routes.
 */
export const API_HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
  xContentTypeOptions: true,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: true,
  xXssProtection: false,
};

/** Sets the security headers of one answer. */
export type SecurityHeaders = (req: Request, res: Response) => void;

function noop(): void {}

function containsFunction(value: unknown, seen = new Set<unknown>()): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  return Object.values(value).some((item) => containsFunction(item, seen));
}

/**
 * The security headers for a router's `helmet` option: the API set by default, the host's helmet
 * options when given, none for `false`. helmet's middleware is synchronous and, without functions
 * in its options (Content-Security-Policy nonces), sets the same headers on every answer: they are
 * recorded once and replayed, sparing each answer helmet's chain of middleware calls.
 */
export function securityHeaders(option: HelmetOptions | false | undefined): SecurityHeaders | undefined {
  if (option === false) return undefined;
  // Two calls, not helmet(option ?? API_HELMET_OPTIONS): the union of HelmetOptions and its
  // Readonly form makes the compiler relate Node's http types structurally, which took 3 of the
  // 9 s the project's type-check spent checking.
  const middleware = option === undefined ? helmet(API_HELMET_OPTIONS) : helmet(option);
  if (containsFunction(option)) return (req, res) => middleware(req, res, noop);
  const set: Array<readonly [name: string, value: string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => set.push([name, value]),
    removeHeader: (name: string) => removed.push(name),
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, noop);
  return (_req, res) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
  };
}
