import type { Pool, PoolClient } from 'pg';

/**
 * A connection checked out of the pool, given back once: `release()` after a success, `fail()`
 * after a failure or a timeout, which makes the pool destroy it.
 */
export interface Lease {
  readonly client: PoolClient;
  release(): void;
  fail(error: Error): void;
}

/**
 * Checks a connection out with an error listener attached at once: the server may end a connection
 * in the same packet that completes its checkout, before a continuation could listen. A connection
 * that failed while checked out is destroyed when it is given back.
 */
export function checkOut(pool: Pool, callback: (error: Error | undefined, lease?: Lease) => void): void {
  pool.connect((error, client, done) => {
    if (error || !client) {
      callback(error ?? new Error('The pool handed out no connection.'));
      return;
    }
    let failure: Error | undefined;
    let returned = false;
    const onError = (connectionError: Error): void => {
      failure ??= connectionError;
    };
    const giveBack = (): void => {
      if (returned) return;
      returned = true;
      client.removeListener('error', onError);
      done(failure);
    };
    client.on('error', onError);
    callback(undefined, {
      client,
      release: giveBack,
      fail(cause: Error) {
        failure ??= cause;
        giveBack();
      },
    });
  });
}
