import { MemoryStore } from '../lib';
import { ciphertext } from './helpers/app';

describe('MemoryStore', () => {
  it('returns values byte-identical, whether packed (base64) or not', async () => {
    const store = new MemoryStore();
    const values = [ciphertext(), ciphertext(64), 'QUJD', 'plain text ✓', '\u0000tagged', '\u0001escaped', 'AAAA\nAAAA'];
    for (const [index, value] of values.entries()) await store.set(`i-${index}`, value);
    for (const [index, value] of values.entries()) expect(await store.get(`i-${index}`)).toBe(value);
  });

  it('counts an expired value as absent and frees it', async () => {
    const store = new MemoryStore();
    await store.set('i-1', 'old', 30);
    expect(await store.setIfAbsent('i-1', 'new', 30)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.get('i-1')).toBeUndefined();
    expect(store.size).toBe(0);
    expect(await store.delete('i-1')).toBe(false);
    await store.close();
  });

  it('keeps a value forever when set again without ttl', async () => {
    const store = new MemoryStore();
    await store.set('i-1', 'a', 20);
    await store.set('i-1', 'b');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await store.get('i-1')).toBe('b');
  });
});
