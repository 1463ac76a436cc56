/**
 * Settles like `operation`, or rejects with `onTimeout()`'s error once `timeoutMs` has passed
 * without an answer (`onTimeout` may also abandon work that has not started yet). The timer is
 * cleared either way, so nothing keeps the process alive.
 */
export function withTimeout<T>(operation: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([operation, expiry]).finally(() => clearTimeout(timer));
}
