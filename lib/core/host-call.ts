import type { Awaitable } from '../types';

/** Whether `value` has a `then` method, as promises and thenables do. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls the host's code (a hook, `principalId`, `errorBody`, `onEvent`, the logger), the one way the
 * package does: whatever it throws, however it rejects (a rejecting promise, a thenable whose `then`
 * throws or is a throwing getter) goes to `failed`, whose result (or throw) stands in for the
 * call's. A synchronous result comes back synchronously, so a synchronous hook costs no microtask;
 * only a thenable is waited for. What the result holds is the caller's to check.
 */
export function callHost<T, F>(call: () => Awaitable<T>, failed: (error: unknown) => F): T | F | Promise<T | F> {
  let result: Awaitable<T>;
  try {
    result = call();
    if (!isThenable(result)) return result;
  } catch (error) {
    return failed(error);
  }
  return Promise.resolve(result).then((value) => value, failed);
}
