import type { Request, Response } from 'express';
import { optionalInteger } from '../core/options';
import type { PasswordService } from '../core/service';
import type { RequestState } from './answers';

/** The longest `maxWait` may be, in seconds: an hour. */
export const MAX_WAIT_LIMIT = 3600;
/** `maxWait`'s default, in seconds. */
export const DEFAULT_MAX_WAIT = 60;
/** `maxWaiters`' default: waits held at once by one router. */
export const DEFAULT_MAX_WAITERS = 1000;

/** The owner router's options for `Prefer: wait`, checked at creation. */
export interface WaitLimits {
  /** Seconds a wait may last at most. */
  readonly maxWait: number;
  /** Waits held at once; past it a GET is answered at once. */
  readonly maxWaiters: number;
}

/** Checks `maxWait` and `maxWaiters` and applies their defaults. */
export function parseWaitLimits(where: string, options: { maxWait?: unknown; maxWaiters?: unknown }): WaitLimits {
  optionalInteger(where, 'maxWait', options.maxWait, 1, MAX_WAIT_LIMIT, 'seconds');
  optionalInteger(where, 'maxWaiters', options.maxWaiters, 0, 1_000_000, 'waits at a time');
  return {
    maxWait: (options.maxWait as number | undefined) ?? DEFAULT_MAX_WAIT,
    maxWaiters: (options.maxWaiters as number | undefined) ?? DEFAULT_MAX_WAITERS,
  };
}

/**
 * The seconds a request's RFC 7240 `Prefer: wait=N` asks for, or `undefined` when it asks for none.
 * Preferences are comma-separated, each `name[=value]` with optional `;parameters`; names are
 * case-insensitive and the first `wait` counts. Only a positive integer (bare or quoted) is a wait:
 * `wait=0`, a malformed value or another preference is ignored, as RFC 7240 says.
 */
export function preferredWait(req: Request): number | undefined {
  const header = req.headers.prefer;
  if (header === undefined) return undefined;
  for (const preference of [header].flat().join(',').split(',')) {
    const [name, value] = preference.split(';')[0].split('=', 2).map((part) => part.trim());
    if (name.toLowerCase() !== 'wait') continue;
    const seconds = /^"?(\d+)"?$/.exec(value ?? '')?.[1];
    if (seconds === undefined) return undefined;
    const wait = Number(seconds);
    return wait > 0 ? wait : undefined;
  }
  return undefined;
}

/**
 * Holds owner GETs that asked to wait for a password, at most `maxWaiters` at a time: each waits
 * until the guest's POST is stored, its wait (cut to `maxWait`) has passed, or its client has gone.
 */
export class PasswordWaits {
  readonly #limits: WaitLimits;
  #held = 0;

  constructor(limits: WaitLimits) {
    this.#limits = limits;
  }

  /**
   * Waits as `req` prefers when it prefers to and a place is free, saying so in
   * `Preference-Applied`; resolves the value found, or `undefined` at the end of the wait. Without
   * a preference or a free place, resolves `undefined` at once with no header.
   */
  async wait(service: PasswordService, req: Request, res: Response, id: string, request: RequestState): Promise<string | undefined> {
    const preferred = preferredWait(req);
    if (preferred === undefined || this.#held >= this.#limits.maxWaiters) return undefined;
    const seconds = Math.min(preferred, this.#limits.maxWait);
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    res.once('close', onClose);
    if (req.socket.destroyed) gone.abort();
    this.#held++;
    try {
      const value = await service.waitFor(id, seconds * 1000, gone.signal, request);
      res.setHeader('Preference-Applied', `wait=${seconds}`);
      return value;
    } finally {
      this.#held--;
      res.removeListener('close', onClose);
    }
  }
}
