import type { Pool, PoolClient } from 'pg';

/** A connection checked out of the pool; released with its failure, if any, so a broken one is destroyed. */
export interface Lease {
  readonly client: PoolClient;
  failure: Error | undefined;
  release(): void;
}

/**
 * Checks a connection out with an error listener attached at once: the server may end a connection
 * in the same packet that completes its checkout, before a promise continuation could listen.
 */
export function checkOut(pool: Pool): Promise<Lease> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client, done) => {
      if (error || !client) {
        reject(error ?? new Error('The pool handed out no connection.'));
        return;
      }
      const onError = (failure: Error): void => {
        lease.failure ??= failure;
      };
      const lease: Lease = {
        client,
        failure: undefined,
        release() {
          client.removeListener('error', onError);
          done(lease.failure);
        },
      };
      client.on('error', onError);
      resolve(lease);
    });
  });
}
