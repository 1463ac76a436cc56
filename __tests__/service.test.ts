import { inspect } from 'node:util';
import { MemoryStore, PasswordError, PasswordService, type PasswordEvent, type PasswordStore } from '../lib';
import { ciphertext, recordingLogger } from './helpers/app';

function serviceWithEvents(options: ConstructorParameters<typeof PasswordService>[0] = {}) {
  const events: PasswordEvent[] = [];
  const logger = recordingLogger();
  const service = new PasswordService({ onEvent: (event) => events.push(event), logger, ...options });
  return { service, events, logger };
}

/** A store whose backend is down: every call rejects. */
class BrokenStore implements PasswordStore {
  readonly failure = new Error('connection refused');
  get = async () => Promise.reject(this.failure);
  setIfAbsent = async () => Promise.reject(this.failure);
  set = async () => Promise.reject(this.failure);
  delete = async () => Promise.reject(this.failure);
}

describe('PasswordService', () => {
  it('sets once, reports conflicts, overwrites and clears, with events that never carry the value', async () => {
    const { service, events } = serviceWithEvents();
    const [first, second, third] = [ciphertext(), ciphertext(), ciphertext()];
    const context = { principalId: 'admin', requestId: 'req-1' };
    expect(await service.setOnce('i-1', first, context)).toBe(true);
    expect(await service.setOnce('i-1', second)).toBe(false);
    expect(await service.get('i-1')).toBe(first);
    await service.overwrite('i-1', third, context);
    expect(await service.get('i-1')).toBe(third);
    expect(await service.clear('i-1', context)).toBe(true);
    expect(await service.clear('i-1')).toBe(false);
    expect(await service.get('i-1')).toBeUndefined();
    expect(events.map(({ type, reason }) => [type, reason])).toEqual([
      ['password.set', undefined],
      ['password.conflict', undefined],
      ['password.read', undefined],
      ['password.set', 'overwrite'],
      ['password.read', undefined],
      ['password.cleared', undefined],
    ]);
    expect(events[0]).toEqual({ type: 'password.set', instanceId: 'i-1', principalId: 'admin', requestId: 'req-1', durationMs: expect.any(Number), at: expect.any(Date) });
    const serialized = JSON.stringify(events);
    for (const value of [first, second, third]) expect(serialized).not.toContain(value);
  });

  it('lets the guest post again after clear (the rebuild case)', async () => {
    const { service } = serviceWithEvents();
    await service.setOnce('i-1', ciphertext());
    await service.clear('i-1');
    const fresh = ciphertext();
    expect(await service.setOnce('i-1', fresh)).toBe(true);
    expect(await service.get('i-1')).toBe(fresh);
  });

  it('rejects invalid values with PasswordError as HTTP would, storing nothing', async () => {
    const { service, events } = serviceWithEvents();
    await expect(service.setOnce('i-1', 'Passw0rd')).rejects.toMatchObject({ status: 400, code: 'INVALID_PASSWORD' });
    await expect(service.overwrite('i-1', 'A'.repeat(1024))).rejects.toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    await expect(service.setOnce('i-1', '\ud800'.repeat(100))).rejects.toBeInstanceOf(PasswordError);
    expect(await service.get('i-1')).toBeUndefined();
    expect(events.map((event) => [event.type, event.reason])).toEqual([
      ['password.rejected', 'INVALID_PASSWORD'],
      ['password.rejected', 'PAYLOAD_TOO_LARGE'],
      ['password.rejected', 'INVALID_PASSWORD'],
    ]);
  });

  it('expires values after ttl', async () => {
    const { service } = serviceWithEvents({ ttl: 50 });
    await service.setOnce('i-1', ciphertext());
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await service.get('i-1')).toBeUndefined();
    expect(await service.setOnce('i-1', ciphertext())).toBe(true);
  });

  it('turns a store failure into 503 STORE_UNAVAILABLE, logs the cause and emits store.unavailable', async () => {
    const store = new BrokenStore();
    const { service, events, logger } = serviceWithEvents({ store });
    for (const call of [() => service.get('i-1'), () => service.setOnce('i-1', ciphertext()), () => service.clear('i-1')]) {
      await expect(call()).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', retryAfter: 1 });
    }
    expect(logger.errors.map((args) => args[1])).toEqual(Array(3).fill('Error: connection refused'));
    expect(events.map((event) => [event.type, event.reason])).toEqual(Array(3).fill(['store.unavailable', 'connection refused']));
  });

  it('never logs, emits or rejects with what a failing store client attached to its error', async () => {
    const value = ciphertext();
    // ioredis attaches the command to its errors: the key and the value, plaintext in format 'text'.
    const clientError = Object.assign(new Error('OOM command not allowed when used memory > maxmemory.'), {
      name: 'ReplyError',
      command: { name: 'set', args: ['mdpw:i-1', value, 'NX'] },
    });
    const store: PasswordStore = {
      get: async () => Promise.reject(clientError),
      setIfAbsent: async () => Promise.reject(clientError),
      set: async () => Promise.reject(clientError),
      delete: async () => Promise.reject(clientError),
    };
    const { service, events, logger } = serviceWithEvents({ store });
    const rejections: unknown[] = [];
    for (const call of [() => service.setOnce('i-1', value), () => service.overwrite('i-1', value), () => service.get('i-1')]) {
      await call().catch((error: unknown) => rejections.push(error));
    }
    const everything = inspect([logger.errors, logger.warnings, events, rejections], { depth: 10, showHidden: true });
    expect(everything).not.toContain(value);
    expect(logger.errors.map((args) => args[1])).toEqual(Array(3).fill('ReplyError: OOM command not allowed when used memory > maxmemory.'));
    expect(rejections).toEqual(Array(3).fill(expect.objectContaining({ status: 503, code: 'STORE_UNAVAILABLE' })));
  });

  it('refuses ids that are not well-formed UTF-16, so two lone surrogates never share a password', async () => {
    const { service } = serviceWithEvents();
    for (const id of ['vm\uD800', 'vm\uDC00', '\uDC00vm', 'a\uD800\uD800b']) {
      await expect(service.setOnce(id, ciphertext())).rejects.toThrow(/well-formed UTF-16/);
      await expect(service.get(id)).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    }
    expect(await service.setOnce('vm\uD83D\uDE00', ciphertext())).toBe(true);
  });

  it('refuses ids that are not 1 to 255 characters', async () => {
    const { service } = serviceWithEvents();
    await expect(service.get('')).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await expect(service.setOnce('x'.repeat(256), ciphertext())).rejects.toThrow(/1 to 255 characters/);
  });

  it('uses a MemoryStore by default and the given store otherwise, and keeps it private', async () => {
    const service = new PasswordService({ format: 'text' });
    await service.setOnce('i-1', 'kept');
    await expect(service.get('i-1')).resolves.toBe('kept');
    const store = new MemoryStore();
    await new PasswordService({ store, format: 'text' }).setOnce('i-2', 'in the given store');
    await expect(store.get('i-2')).resolves.toBe('in the given store');
    expect(Object.keys(new PasswordService())).not.toContain('store');
    expect('store' in new PasswordService()).toBe(false);
  });
});
