import { existsSync, readFileSync } from 'node:fs';

/**
 * Waits for the file another suite or `globalSetup` writes into the run's directory once its work
 * for the whole run is done, and resolves its text; throws the text of `failed` if that work wrote
 * it instead, or an error naming `what` after `timeoutMs`.
 */
export async function waitForRunFile(done: string, failed: string, timeoutMs: number, what: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(failed)) throw new Error(readFileSync(failed, 'utf8'));
    if (existsSync(done)) return readFileSync(done, 'utf8');
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
