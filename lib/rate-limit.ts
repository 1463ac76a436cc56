import type { Request, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { PasswordError, passwordError } from './errors';
import { checkKnownOptions, optionalInteger, OptionsError } from './options';
import type { InstanceRateLimit, Logger } from './types';

const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_LIMIT = 10;

/** Counts a request against its instance; rejects with 429 `RATE_LIMITED` past the limit. */
export type InstanceLimiter = (req: Request, res: Response, instanceId: string) => Promise<void>;

function checkRateLimit(where: string, option: unknown): asserts option is InstanceRateLimit {
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
}

/**
 * Builds the per-instance limiter of a router on express-rate-limit, keyed by the instance id the
 * host's `lookupInstance` resolved; `undefined` when the option is off.
 */
export function createInstanceLimiter(
  where: string,
  option: InstanceRateLimit | false | undefined,
  logger: Logger,
): InstanceLimiter | undefined {
  if (option === undefined || option === false) return undefined;
  checkRateLimit(where, option);
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
  return (req, res, instanceId) =>
    new Promise<void>((resolve, reject) => {
      keys.set(req, instanceId);
      void middleware(req, res, (error?: unknown) => {
        if (error === undefined) resolve();
        else if (error instanceof PasswordError) reject(error);
        else {
          logger.error('express-metadata-password: the rate-limit store failed.', error);
          reject(passwordError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable; try again shortly.', { cause: error }));
        }
      });
    });
}
