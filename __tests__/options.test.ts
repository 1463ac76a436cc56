import { createPasswordRouter, createServerPasswordRouter, MemoryStore, OptionsError, PasswordService } from '../lib';

const hooks = { authenticate: () => null, lookupInstance: () => null };

describe('options are checked at creation', () => {
  it.each([
    [() => createPasswordRouter({ ...hooks, bodyTimout: 100 } as never), 'ERR_UNKNOWN_OPTION', /unknown option `bodyTimout`. Did you mean `bodyTimeout`\?/],
    [() => new PasswordService({ maxByte: 100 } as never), 'ERR_UNKNOWN_OPTION', /unknown option `maxByte`. Did you mean `maxBytes`\?/],
    [() => createPasswordRouter({ ...hooks, lookupinstance: () => null } as never), 'ERR_UNKNOWN_OPTION', /Did you mean `lookupInstance`/],
    [() => createPasswordRouter({ lookupInstance: hooks.lookupInstance } as never), 'ERR_MISSING_OPTION', /`authenticate` must be a function/],
    [() => createPasswordRouter({ authenticate: hooks.authenticate } as never), 'ERR_MISSING_OPTION', /`lookupInstance` must be a function/],
    [() => new PasswordService({ maxBytes: 8 }), 'ERR_INVALID_OPTION', /`maxBytes` must be an integer from 16 to 4096/],
    [() => new PasswordService({ maxBytes: 5000 }), 'ERR_INVALID_OPTION', /from 16 to 4096/],
    [() => new PasswordService({ format: 'hex' as never }), 'ERR_INVALID_OPTION', /'base64' or 'text'/],
    [() => createPasswordRouter({ ...hooks, versions: [] }), 'ERR_INVALID_OPTION', /`versions` must be a non-empty array/],
    [() => createPasswordRouter({ ...hooks, bodyTimeout: 0 }), 'ERR_INVALID_OPTION', /`bodyTimeout`/],
    [() => new PasswordService({ store: {} as never }), 'ERR_INVALID_OPTION', /missing get, setIfAbsent, set, delete/],
    [() => createPasswordRouter({ ...hooks, ttl: 10 } as never), 'ERR_UNKNOWN_OPTION', /`ttl` is an option of the PasswordService, not of a router: pass it to `new PasswordService\(\{ ... \}\)`/],
    [() => createPasswordRouter({ ...hooks, store: new MemoryStore(), format: 'text' } as never), 'ERR_UNKNOWN_OPTION', /`store`, `format` are options of the PasswordService/],
    [() => createPasswordRouter({ ...hooks, service: new PasswordService(), maxBytes: 100 } as never), 'ERR_UNKNOWN_OPTION', /`maxBytes` is an option of the PasswordService/],
    [() => createServerPasswordRouter({ ...hooks, service: new PasswordService(), onEvent: () => {} } as never), 'ERR_UNKNOWN_OPTION', /`onEvent` is an option of the PasswordService/],
    [() => createPasswordRouter({ ...hooks, service: {} as never }), 'ERR_INVALID_OPTION', /must be a PasswordService/],
    [() => createServerPasswordRouter(hooks as never), 'ERR_MISSING_OPTION', /pass the `service` the guest router writes to/],
    [() => createPasswordRouter({ ...hooks, errorBody: 'nova' as never }), 'ERR_INVALID_OPTION', /`errorBody` must be a function/],
    [() => createPasswordRouter({ ...hooks, helmet: 'strict' as never }), 'ERR_INVALID_OPTION', /`helmet` must be helmet's options object or false/],
    [() => createPasswordRouter({ ...hooks, logger: { log() {} } as never }), 'ERR_INVALID_OPTION', /`logger` must have `warn` and `error`/],
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

  it('accepts a shared service on both routers, and none on the guest router', () => {
    const service = new PasswordService({ store: new MemoryStore(), onEvent: () => {} });
    expect(() => createPasswordRouter({ ...hooks, service })).not.toThrow();
    expect(() => createServerPasswordRouter({ ...hooks, service })).not.toThrow();
    expect(() => createPasswordRouter(hooks)).not.toThrow();
  });
});
