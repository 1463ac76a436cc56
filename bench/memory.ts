import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryStore } from '../lib';

export const MEMORY_INSTANCES = 200_000;
export const MEMORY_TARGET_BYTES = 450;

export interface MemoryResult {
  readonly instances: number;
  readonly idLength: number;
  readonly valueLength: number;
  readonly bytesPerPassword: number;
}

/** Heap plus off-heap memory (external includes array buffers) after a full collection. */
function footprint(gc: () => void): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** Runs in a fresh process with --expose-gc: fills a MemoryStore with UUID ids and 2048-bit ciphertexts. */
async function measureInThisProcess(): Promise<MemoryResult> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('memory.js must run with --expose-gc');
  const store = new MemoryStore();
  // Warm the UUID pool and the store's code paths, so neither counts as stored data.
  await store.set(randomUUID(), randomBytes(256).toString('base64'));
  await store.delete(randomUUID());
  const before = footprint(gc);
  for (let i = 0; i < MEMORY_INSTANCES; i++) {
    await store.setIfAbsent(randomUUID(), randomBytes(256).toString('base64'));
  }
  const after = footprint(gc);
  return {
    instances: store.size - 1,
    idLength: randomUUID().length,
    valueLength: randomBytes(256).toString('base64').length,
    bytesPerPassword: (after - before) / MEMORY_INSTANCES,
  };
}

/** Measures MemoryStore's bytes per stored password in a fresh child process. */
export function measureMemoryStore(): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['measure'], { execArgv: ['--expose-gc'] });
    child.once('message', (result: MemoryResult) => resolve(result));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the memory measurement exited with code ${code}`)));
  });
}

if (require.main === module && process.argv[2] === 'measure') {
  measureInThisProcess().then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
