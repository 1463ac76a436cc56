import type { Request, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { PasswordError, passwordError } from '../core/errors';
import type { Diagnostics } from '../core/logging';
import { checkKnownOptions, optionalInteger, OptionsError } from '../core/options';
import type { InstanceRateLimit } from '../types';

const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_LIMIT = 10;

/** Counts a request under `key`; rejects with 429 `RATE_LIMITED` past the limit. */
export type RateLimiter = (req: Request, res: Response, key: string) => Promise<void>;

/** Checks a router's `rateLimit` option; `undefined` when it is off. */
export function parseRateLimit(where: string, option: unknown): InstanceRateLimit | undefined {
  if (option === undefined || option === false) return undefined;
  checkKnownOptions(`${where} \`rateLimit\``, option, ['windowMs', 'limit', 'store']);
  const { windowMs, limit, store } = option as InstanceRateLimit;
  optionalInteger(where, 'rateLimit.windowMs', windowMs, 1000, 2 ** 31 - 1, 'milliseconds');
  optionalInteger(where, 'rateLimit.limit', limit, 1, 1_000_000, 'requests per window');
  if (store !== undefined && typeof (store as Partial<Store>).increment !== 'function') {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${where}: \`rateLimit.store\` must be an express-rate-limit store, e.g. new RedisStore({ sendCommand }) from rate-limit-redis.`,
    );
  }
  return option as InstanceRateLimit;
}

/**
 * Builds a router's limiter on express-rate-limit. The router chooses the key (the instance, or the
 * caller and the instance), never the client address.
 */
export function createRateLimiter(option: InstanceRateLimit, log: Diagnostics): RateLimiter {
  const keys = new WeakMap<Request, string>();
  const windowMs = option.windowMs ?? DEFAULT_WINDOW_MS;
  const middleware = rateLimit({
    windowMs,
    limit: option.limit ?? DEFAULT_LIMIT,
    ...(option.store && { store: option.store }),
    keyGenerator: (req) => keys.get(req) as string,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.ceil((resetTime.getTime() - Date.now()) / 1000) : windowMs / 1000;
      next(passwordError('RATE_LIMITED', 'Too many requests for this instance; try again later.', { retryAfter: Math.max(1, Math.ceil(seconds)) }));
    },
    // The key is the instance id, never the client address, so the address checks do not apply.
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
  });
  return (req, res, key) =>
    new Promise<void>((resolve, reject) => {
      keys.set(req, key);
      void middleware(req, res, (error?: unknown) => {
        if (error === undefined) resolve();
        else if (error instanceof PasswordError) reject(error);
        else {
          log.error('the rate-limit store failed.', error);
          reject(passwordError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable; try again shortly.'));
        }
      });
    });
}
