export { createPasswordRouter, PASSWORD_VERSIONS } from './guest-router';
export { createServerPasswordRouter } from './owner-router';
export { PasswordService } from './service';
export { MemoryStore } from './stores/memory';
export { PasswordError, ERROR_STATUS, type PasswordErrorCode } from './errors';
export { OptionsError, type OptionsErrorCode } from './options';
export { signedProxyIdentity, type SignedProxyIdentityOptions, type ProxyPrincipal, type ProxyIdentityHook } from './identity';
export { toSystemMetadata, fromSystemMetadata, type NovaPasswordMetadata } from './nova-codec';
export type * from './types';
