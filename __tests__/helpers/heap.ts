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

/**
 * The heap `count` requests made by `send` (ten at a time) leave retained, after twenty more to warm
 * up the code paths; every answer must have `status`.
 */
export async function heapRetainedBy(send: () => Promise<Response>, status: number, count = 1100): Promise<number> {
  const answerAll = async (requests: number) => {
    for (let index = 0; index < requests; index += 10) {
      for (const answer of await Promise.all(Array.from({ length: 10 }, send))) {
        if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}`);
        await answer.arrayBuffer();
      }
    }
  };
  await answerAll(20);
  const before = retainedHeapBytes();
  await answerAll(count);
  return retainedHeapBytes() - before;
}
