import { createPasswordRouter, createServerPasswordRouter, MemoryStore, OptionsError, PasswordService } from '../lib';

const hooks = { authenticate: () => null, lookupInstance: () => null };

describe('options are checked at creation', () => {
  it.each([
    [() => createPasswordRouter({ ...hooks, maxByte: 100 } as never), 'ERR_UNKNOWN_OPTION', /unknown option `maxByte`. Did you mean `maxBytes`\?/],
    [() => createPasswordRouter({ ...hooks, lookupinstance: () => null } as never), 'ERR_UNKNOWN_OPTION', /Did you mean `lookupInstance`/],
    [() => createPasswordRouter({ lookupInstance: hooks.lookupInstance } as never), 'ERR_MISSING_OPTION', /`authenticate` must be a function/],
    [() => createPasswordRouter({ authenticate: hooks.authenticate } as never), 'ERR_MISSING_OPTION', /`lookupInstance` must be a function/],
    [() => createPasswordRouter({ ...hooks, maxBytes: 8 }), 'ERR_INVALID_OPTION', /`maxBytes` must be an integer from 16 to 4096/],
    [() => createPasswordRouter({ ...hooks, maxBytes: 5000 }), 'ERR_INVALID_OPTION', /from 16 to 4096/],
    [() => createPasswordRouter({ ...hooks, format: 'hex' as never }), 'ERR_INVALID_OPTION', /'base64' or 'text'/],
    [() => createPasswordRouter({ ...hooks, versions: [] }), 'ERR_INVALID_OPTION', /`versions` must be a non-empty array/],
    [() => createPasswordRouter({ ...hooks, bodyTimeout: 0 }), 'ERR_INVALID_OPTION', /`bodyTimeout`/],
    [() => createPasswordRouter({ ...hooks, store: {} as never }), 'ERR_INVALID_OPTION', /missing get, setIfAbsent, set, delete/],
    [() => createPasswordRouter({ ...hooks, service: new PasswordService(), ttl: 10 }), 'ERR_CONFLICTING_OPTIONS', /pass `ttl` to the PasswordService/],
    [() => createPasswordRouter({ ...hooks, service: {} as never }), 'ERR_INVALID_OPTION', /must be a PasswordService/],
    [() => createServerPasswordRouter(hooks), 'ERR_MISSING_OPTION', /pass the `service` \(or `store`\)/],
    [() => createServerPasswordRouter({ ...hooks, service: new PasswordService(), onEvent: () => {} }), 'ERR_CONFLICTING_OPTIONS', /`onEvent`/],
    [() => createServerPasswordRouter({ ...hooks, store: new MemoryStore(), maxBytes: 100 } as never), 'ERR_UNKNOWN_OPTION', /`maxBytes`/],
    [() => new PasswordService({ tll: 10 } as never), 'ERR_UNKNOWN_OPTION', /Did you mean `ttl`/],
    [() => new PasswordService({ ttl: -1 }), 'ERR_INVALID_OPTION', /`ttl`/],
    [() => new PasswordService({ onEvent: 'log' as never }), 'ERR_INVALID_OPTION', /`onEvent` must be a function/],
    [() => createPasswordRouter(undefined as never), 'ERR_INVALID_OPTION', /takes an options object/],
  ])('%#: throws %s', (create, code, message) => {
    let thrown: unknown;
    try {
      create();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OptionsError);
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as OptionsError).code).toBe(code);
    expect((thrown as OptionsError).message).toMatch(message);
  });

  it('accepts a shared service on both routers, or a store on the owner router', () => {
    const service = new PasswordService();
    expect(() => createPasswordRouter({ ...hooks, service })).not.toThrow();
    expect(() => createServerPasswordRouter({ ...hooks, service })).not.toThrow();
    expect(() => createServerPasswordRouter({ ...hooks, store: new MemoryStore(), onEvent: () => {} })).not.toThrow();
  });
});
