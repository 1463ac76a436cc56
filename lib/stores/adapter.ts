/** What the Redis and PostgreSQL stores share: loading their optional peer and bounding each call. */

/**
 * Loads an optional peer dependency of a store's subpath; throws an Error naming the package to
 * install when it is missing, so a memory-only user installs neither.
 */
export function requirePeer(name: string, subpath: string): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a peer that may be absent
    require(name);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'MODULE_NOT_FOUND' || !message.includes(`'${name}'`)) throw error;
    throw new Error(`express-metadata-password/${subpath} needs ${name}: npm install ${name}`, { cause: error });
  }
}

/**
 * Settles like `operation`, or rejects once `timeoutMs` has passed without an answer, calling
 * `onTimeout` so the caller can abandon work that has not started yet.
 */
export function withTimeout<T>(
  operation: Promise<T>,
  timeoutMs: number,
  backend: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${backend} did not answer within ${timeoutMs} ms.`));
    }, timeoutMs);
  });
  return Promise.race([operation, expiry]).finally(() => clearTimeout(timer));
}
