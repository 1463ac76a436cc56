import { removeKeyDir, RUN_KEYS_VARIABLE } from './crypto-keys';

/** Jest `globalTeardown`: removes the keys `global-keys-setup.ts` made (not a directory given from outside). */
export default function removeRunKeys(): void {
  if (process.env[`${RUN_KEYS_VARIABLE}_MADE_BY_RUN`] === '1') removeKeyDir(process.env[RUN_KEYS_VARIABLE]);
}
