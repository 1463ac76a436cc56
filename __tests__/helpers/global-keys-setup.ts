import { generateRsaKeySet, makeKeyDir, RUN_KEY_SETS, RUN_KEYS_VARIABLE } from './crypto-keys';

/**
 * Jest `globalSetup`: makes the RSA test keys once per run, in parallel, and names their directory
 * in the environment the test workers inherit; `makeRsaKeySet` copies them from there.
 */
export default async function makeRunKeys(): Promise<void> {
  if (process.env[RUN_KEYS_VARIABLE] !== undefined) return;
  const dir = makeKeyDir();
  process.env[RUN_KEYS_VARIABLE] = dir;
  process.env[`${RUN_KEYS_VARIABLE}_MADE_BY_RUN`] = '1';
  await Promise.all(RUN_KEY_SETS.map(({ bits, name }) => generateRsaKeySet(dir, bits, name)));
}
