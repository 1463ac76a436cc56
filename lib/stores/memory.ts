import { decodeCanonicalBase64 } from '../core/base64';
import { WriteWaiters } from '../core/write-waiters';
import type { PasswordStore } from '../types';

const SWEEP_INTERVAL_MS = 60_000;

// A ciphertext (canonical base64) is kept as the latin1 string of its bytes behind a NUL tag: one
// heap byte per ciphertext byte instead of 4/3. A value that starts with a tag character is escaped.
const PACKED = '\u0000';
const ESCAPED = '\u0001';
const ONE_BYTE = /^[^\u0100-\uffff]*$/;

function pack(value: string): string {
  const bytes = decodeCanonicalBase64(value);
  if (bytes) return PACKED + bytes.toString('latin1');
  return value.startsWith(PACKED) || value.startsWith(ESCAPED) ? ESCAPED + value : value;
}

function unpack(stored: string): string {
  if (stored.startsWith(PACKED)) return Buffer.from(stored.slice(1), 'latin1').toString('base64');
  return stored.startsWith(ESCAPED) ? stored.slice(1) : stored;
}

/**
 * `id` in one piece. V8 keeps a string built by concatenation (randomUUID's ids, `prefix + id`) as
 * a tree of its pieces, about 400 bytes for a UUID where a flat copy takes 56, and a Map key keeps
 * that tree for as long as the password is stored.
 */
function flatKey(id: string): string {
  const encoding = ONE_BYTE.test(id) ? 'latin1' : 'utf16le';
  return Buffer.from(id, encoding).toString(encoding);
}

/**
 * The embedded store: one process, nothing persisted. Set-once is atomic within the process.
 * Expired values count as absent at once and are freed by an unref'd sweep, which never keeps the
 * process alive; `close()` stops it. `watch` is woken in-process by each write.
 */
export class MemoryStore implements PasswordStore {
  readonly #values = new Map<string, string>();
  readonly #expiries = new Map<string, number>();
  readonly #waiters = new WriteWaiters();
  #sweeper: NodeJS.Timeout | undefined;

  /** How many values are held, expired ones not yet swept included. */
  get size(): number {
    return this.#values.size;
  }

  async get(id: string): Promise<string | undefined> {
    const stored = this.#live(id);
    return stored === undefined ? undefined : unpack(stored);
  }

  async setIfAbsent(id: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.#live(id) !== undefined) return false;
    this.#store(id, value, ttlMs);
    return true;
  }

  async set(id: string, value: string, ttlMs?: number): Promise<void> {
    this.#store(id, value, ttlMs);
  }

  async delete(id: string): Promise<boolean> {
    const existed = this.#live(id) !== undefined;
    this.#values.delete(id);
    this.#expiries.delete(id);
    return existed;
  }

  /** Resolves at the next write (set-once that stored, or overwrite) for `id`; rejects when `signal` aborts. */
  watch(id: string, signal: AbortSignal): Promise<void> {
    return this.#waiters.wait(id, signal);
  }

  /** Stops the expiry sweep and ends every wait (rejected). */
  async close(): Promise<void> {
    this.#waiters.failAll(new Error('The store was closed.'));
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #live(id: string): string | undefined {
    const stored = this.#values.get(id);
    if (stored === undefined) return undefined;
    const expiresAt = this.#expiries.get(id);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      this.#values.delete(id);
      this.#expiries.delete(id);
      return undefined;
    }
    return stored;
  }

  #store(id: string, value: string, ttlMs: number | undefined): void {
    if (!this.#values.has(id)) id = flatKey(id);
    this.#values.set(id, pack(value));
    this.#waiters.wake(id);
    if (ttlMs === undefined) {
      this.#expiries.delete(id);
      return;
    }
    this.#expiries.set(id, Date.now() + ttlMs);
    if (!this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
      this.#sweeper.unref();
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, expiresAt] of this.#expiries) {
      if (expiresAt > now) continue;
      this.#values.delete(id);
      this.#expiries.delete(id);
    }
  }
}
