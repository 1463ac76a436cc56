export { createPasswordRouter, PASSWORD_VERSIONS, type PasswordRouterOptions } from './http/guest-router';
export { createServerPasswordRouter, type ServerPasswordRouterOptions } from './http/owner-router';
export { PasswordService, type PasswordServiceOptions } from './core/service';
export { MemoryStore } from './stores/memory';
export { PasswordError, ERROR_STATUS, type PasswordErrorCode } from './core/errors';
export { OptionsError, type OptionsErrorCode } from './core/options';
export {
  signedProxyIdentity,
  type SignedProxyIdentityOptions,
  type ProxyPrincipal,
  type ProxyIdentityHook,
} from './http/identity';
export { exceptPasswordRoutes, type ExceptPasswordRoutesOptions } from './http/parser-guard';
export { toSystemMetadata, fromSystemMetadata, type NovaPasswordMetadata } from './core/nova-codec';
export { API_HELMET_OPTIONS } from './http/security-headers';
export {
  PasswordResetService,
  type PasswordResetServiceOptions,
  type ResetRequest,
} from './core/reset-service';
export { createPasswordServerRouter, type PasswordServerRouterOptions } from './http/password-server-router';
export type * from './types';
