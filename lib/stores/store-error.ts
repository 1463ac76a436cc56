/**
 * The error a store rejects with in place of its client's: the same name, `code` (when a string)
 * and message, nothing else. Client errors carry what was sent: ioredis attaches the command's
 * arguments (the key and the password) to `OOM`, `READONLY` or `AbortError` errors, and PostgreSQL's
 * `detail` can hold the failing row; a host that logs or serialises the error must not see them.
 */
export function storeError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const safe = new Error(source.message);
  safe.name = source.name;
  const { code } = source as { code?: unknown };
  if (typeof code === 'string') Object.defineProperty(safe, 'code', { value: code, enumerable: true });
  return safe;
}
