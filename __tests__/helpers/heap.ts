import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes of heap in use after a full collection: what is retained, not what is garbage. */
export function retainedHeapBytes(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
