import type { RunKeysGlobal } from './global-keys-setup';
import { removeKeyDir, RUN_KEYS_MADE_VARIABLE, RUN_KEYS_VARIABLE } from './crypto-keys';

/** Jest `globalTeardown`: removes the keys `global-keys-setup.ts` made (not a directory given from outside). */
export default async function removeRunKeys(): Promise<void> {
  if (process.env[RUN_KEYS_MADE_VARIABLE] !== '1') return;
  await (globalThis as RunKeysGlobal).mdpwRunKeys;
  removeKeyDir(process.env[RUN_KEYS_VARIABLE]);
}
