import type { HelmetOptions } from 'helmet';
import { diagnostics, type Diagnostics } from '../core/logging';
import { checkKnownOptions, optionalFunction, OptionsError, requireFunction } from '../core/options';
import { parseRateLimit } from './rate-limit';
import { securityHeaders, type SecurityHeaders } from './security-headers';
import { PasswordService, SERVICE_OPTION_NAMES } from '../core/service';
import type { Awaitable, ErrorBodyHook, InstanceRateLimit, Logger, Principal, RouterOptionsBase } from '../types';

/** What every router decides access and answers with, checked once at creation: all but the service. */
export interface HookConfiguration<P extends Principal, C> {
  readonly authenticate: RouterOptionsBase<P, C>['authenticate'];
  readonly lookupInstance: RouterOptionsBase<P, C>['lookupInstance'];
  readonly principalId: ((principal: P) => Awaitable<string | undefined>) | undefined;
  readonly rateLimit: InstanceRateLimit | undefined;
  readonly securityHeaders: SecurityHeaders | undefined;
  readonly errorBody: ErrorBodyHook | undefined;
  readonly log: Diagnostics;
}

/** A password router's options, checked once at creation. */
export interface RouterConfiguration<P extends Principal, C> extends HookConfiguration<P, C> {
  readonly service: PasswordService;
}

/** How a router takes its `service`. */
type ServiceRule =
  /** The guest router: a new `PasswordService()` when none is given. */
  | 'default'
  /** The owner router: its own empty store would never hold a password. */
  | 'required';

/**
 * Throws when options of a service (`serviceOptionNames`) were given to a router, saying to give
 * them to the service (`serviceClass`) and the service as `serviceOption`: storage is configured in
 * one place.
 */
export function checkMisplacedServiceOptions(
  where: string,
  options: unknown,
  serviceOptionNames: readonly string[],
  serviceClass: string,
  serviceOption: string,
): void {
  if (options === null || typeof options !== 'object') return;
  const misplaced = serviceOptionNames.filter((name) => name in options);
  if (misplaced.length === 0) return;
  const names = misplaced.map((name) => `\`${name}\``).join(', ');
  throw new OptionsError(
    'ERR_UNKNOWN_OPTION',
    `${where}: ${names} ${misplaced.length > 1 ? 'are options' : 'is an option'} of the ${serviceClass}, not of a router: ` +
      `pass ${misplaced.length > 1 ? 'them' : 'it'} to \`new ${serviceClass}({ ... })\` and give the service as \`${serviceOption}\`.`,
  );
}

/**
 * Checks the options every router takes about its callers and its answers (and knows
 * `optionNames`, the router's own list, checked against its options type by `optionNames()`; the
 * router checks its own options itself) and returns them.
 */
export function parseHookOptions<P extends Principal, C>(
  where: string,
  options: RouterOptionsBase<P, C>,
  optionNames: readonly string[],
): HookConfiguration<P, C> {
  checkKnownOptions(where, options, optionNames);
  requireFunction(where, 'authenticate', options.authenticate, '(req) => principal | null, identifying the caller');
  requireFunction(
    where,
    'lookupInstance',
    options.lookupInstance,
    '({ principal, action, ... }) => { id } | null, deciding which instance and whether the caller may act on it',
  );
  optionalFunction(where, 'principalId', options.principalId);
  optionalFunction(where, 'errorBody', options.errorBody);
  if (options.logger !== undefined && (typeof options.logger?.error !== 'function' || typeof options.logger.warn !== 'function')) {
    throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`logger\` must have \`warn\` and \`error\` methods (console fits).`);
  }
  return {
    authenticate: options.authenticate,
    lookupInstance: options.lookupInstance,
    principalId: options.principalId,
    rateLimit: parseRateLimit(where, options.rateLimit),
    securityHeaders: securityHeaders(helmetOption(where, options.helmet)),
    errorBody: options.errorBody,
    log: diagnostics((options.logger as Logger | undefined) ?? console),
  };
}

/**
 * Checks the options both password routers take (see `parseHookOptions`) and their `service`. A
 * service option given to a router throws, saying to give it to `new PasswordService()`: storage
 * is configured in one place.
 */
export function parseRouterOptions<P extends Principal, C>(
  where: string,
  options: RouterOptionsBase<P, C> & { readonly service?: PasswordService },
  optionNames: readonly string[],
  serviceRule: ServiceRule,
): RouterConfiguration<P, C> {
  checkMisplacedServiceOptions(where, options, SERVICE_OPTION_NAMES, 'PasswordService', 'service');
  const hooks = parseHookOptions(where, options, optionNames);
  return { ...hooks, service: serviceFrom(where, options.service, serviceRule, options.logger) };
}

function serviceFrom(where: string, service: unknown, rule: ServiceRule, logger: Logger | undefined): PasswordService {
  if (service === undefined) {
    if (rule === 'default') return new PasswordService(logger ? { logger } : {});
    throw new OptionsError(
      'ERR_MISSING_OPTION',
      `${where}: pass the \`service\` the guest router writes to (one PasswordService shared by both routers).`,
    );
  }
  if (!(service instanceof PasswordService)) {
    throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`service\` must be a PasswordService.`);
  }
  return service;
}

function helmetOption(where: string, option: unknown): HelmetOptions | false | undefined {
  if (option === undefined || option === false) return option;
  if (typeof option === 'object' && option !== null && !Array.isArray(option)) return option as HelmetOptions;
  throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`helmet\` must be helmet's options object or false.`);
}
