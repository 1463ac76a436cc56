import type { Request, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { PasswordError, passwordError } from '../core/errors';
import type { Diagnostics } from '../core/logging';
import { checkKnownOptions, optionalInteger, optionNames, OptionsError } from '../core/options';
import { withTimeout } from '../core/timeout';
import type { InstanceRateLimit } from '../types';

const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_LIMIT = 10;
/**
 * How long the limiter's store may take to count a request: the password stores' default
 * `timeoutMs`, so a dead rate-limit store answers 503 as soon as a dead password store would.
 */
const RATE_LIMIT_STORE_TIMEOUT_MS = 2000;
const RATE_LIMIT_OPTION_NAMES = optionNames<InstanceRateLimit>({ windowMs: true, limit: true, store: true });

/** Counts a request under `key`; rejects with 429 `RATE_LIMITED` past the limit. */
export type RateLimiter = (req: Request, res: Response, key: string) => Promise<void>;

/** Checks a router's `rateLimit` option; `undefined` when it is off. */
export function parseRateLimit(where: string, option: unknown): InstanceRateLimit | undefined {
  if (option === undefined || option === false) return undefined;
  checkKnownOptions(`${where} \`rateLimit\``, option, RATE_LIMIT_OPTION_NAMES);
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
 * caller and the instance), never the client address. The store's count has a deadline
 * (`RATE_LIMIT_STORE_TIMEOUT_MS`): a store that fails or does not answer in time (a client queueing
 * commands for a dead server) is 503 `STORE_UNAVAILABLE`.
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
  const unavailable = (error: unknown): PasswordError => {
    log.error('the rate-limit store failed.', error);
    return passwordError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable; try again shortly.');
  };
  return (req, res, key) => {
    const counted = new Promise<void>((resolve, reject) => {
      keys.set(req, key);
      void middleware(req, res, (error?: unknown) => {
        if (error === undefined) resolve();
        else if (error instanceof PasswordError) reject(error);
        else reject(unavailable(error));
      });
    });
    return withTimeout(counted, RATE_LIMIT_STORE_TIMEOUT_MS, () =>
      unavailable(new Error(`the store did not answer within ${RATE_LIMIT_STORE_TIMEOUT_MS} ms`)),
    );
  };
}
