export { createPasswordRouter, PASSWORD_VERSIONS, type PasswordRouterOptions } from './guest-router';
export { createServerPasswordRouter, type ServerPasswordRouterOptions } from './owner-router';
export { PasswordService, type PasswordServiceOptions } from './service';
export { MemoryStore } from './stores/memory';
export { PasswordError, ERROR_STATUS, type PasswordErrorCode } from './errors';
export { OptionsError, type OptionsErrorCode } from './options';
export {
  signedProxyIdentity,
  type SignedProxyIdentityOptions,
  type ProxyPrincipal,
  type ProxyIdentityHook,
} from './identity';
export { exceptPasswordRoutes, type ExceptPasswordRoutesOptions } from './parser-guard';
export { toSystemMetadata, fromSystemMetadata, type NovaPasswordMetadata } from './nova-codec';
export { API_HELMET_OPTIONS } from './security-headers';
export type * from './types';
