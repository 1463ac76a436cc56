/**
 * Settles like `operation`, or rejects with `onTimeout()`'s error once `timeoutMs` has passed
 * without an answer (`onTimeout` may also abandon work that has not started yet). The timer is
 * cleared either way, so nothing keeps the process alive. `mapError`, when given, replaces the
 * operation's own rejection (not the timeout's error) with what it returns.
 *
 * One promise and one timer per call: this sits on every store call, so it adds no `race()` or
 * `finally()` of its own.
 */
export function withTimeout<T>(
  operation: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
  mapError?: (error: unknown) => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    operation.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(mapError ? mapError(error) : error);
      },
    );
  });
}
