/**
 * Loads an optional peer dependency of a subpath export (`/redis`, `/postgres`, `/metrics`); throws
 * an Error naming the package to install when it is missing, so a memory-only user installs none.
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
