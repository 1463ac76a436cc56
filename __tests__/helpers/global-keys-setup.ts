import { generateRsaKeySet, makeKeyDir, RUN_KEY_SETS, RUN_KEYS_VARIABLE, RUN_KEYS_MADE_VARIABLE, runKeySetDone } from './crypto-keys';

/** What `global-keys-teardown.ts` waits for before it removes the keys. */
export interface RunKeysGlobal {
  mdpwRunKeys?: Promise<unknown>;
}

/**
 * Jest `globalSetup`: starts making the RSA test keys, once per run and in parallel, and names
 * their directory in the environment the test workers inherit. It does not wait for them: the
 * suites start meanwhile, and `makeRsaKeySet` waits for the key set it asks for (a 4096-bit key
 * takes up to 4 s to generate, which every suite would otherwise wait for).
 */
export default function makeRunKeys(): void {
  if (process.env[RUN_KEYS_VARIABLE] !== undefined) return;
  const dir = makeKeyDir();
  process.env[RUN_KEYS_VARIABLE] = dir;
  process.env[RUN_KEYS_MADE_VARIABLE] = '1';
  (globalThis as RunKeysGlobal).mdpwRunKeys = Promise.all(
    RUN_KEY_SETS.map(({ bits, name }) =>
      generateRsaKeySet(dir, bits, name).then(
        () => runKeySetDone(dir, name),
        (error: unknown) => runKeySetDone(dir, name, error),
      ),
    ),
  );
}
