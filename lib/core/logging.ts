import { callHost } from './host-call';
import type { Logger } from '../types';

const PREFIX = 'express-metadata-password: ';

/**
 * An error as a log line may show it: name, code and message, nothing else. Store clients attach
 * what they sent to their errors (ioredis: `command.args`, the key and the password), so an error
 * object is never logged whole.
 */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${error === null ? 'null' : typeof error}`;
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' || typeof code === 'number' ? ` [${code}]` : ''}: ${error.message}`;
}

/** The package's diagnostics: every line prefixed, errors described, and never a throw. */
export interface Diagnostics {
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
}

/**
 * Wraps the host's logger so that logging can never fail a request: a logger that throws or
 * rejects is ignored. Errors are logged by `describeError`, never as objects.
 */
export function diagnostics(logger: Logger): Diagnostics {
  const write = (level: 'warn' | 'error', message: string, error: unknown, hasError: boolean): void => {
    const line = PREFIX + message;
    // A broken logger has nowhere to report to.
    void callHost(() => (hasError ? logger[level](line, describeError(error)) : logger[level](line)), () => undefined);
  };
  return {
    warn: (message, ...error: unknown[]) => write('warn', message, error[0], error.length > 0),
    error: (message, ...error: unknown[]) => write('error', message, error[0], error.length > 0),
  };
}

/**
 * A gate that opens at most once per `intervalMs`, for log lines that repeat on every request
 * while a host is misconfigured.
 */
export function everyInterval(intervalMs: number): () => boolean {
  let last = -Infinity;
  return () => {
    const now = performance.now();
    if (now - last < intervalMs) return false;
    last = now;
    return true;
  };
}
