import { checkKnownOptions, optionalFunction, OptionsError, requireFunction } from './options';
import { PasswordService } from './service';
import type { Logger, PasswordServiceOptions } from './types';

/** Options every router takes. */
const COMMON_ROUTER_OPTION_NAMES = [
  'authenticate',
  'lookupInstance',
  'service',
  'logger',
  'helmet',
  'principalId',
  'rateLimit',
];

type ServiceOptionName = Exclude<keyof PasswordServiceOptions, 'logger'>;

interface CommonRouterOptions {
  readonly authenticate?: unknown;
  readonly lookupInstance?: unknown;
  readonly principalId?: unknown;
  readonly service?: unknown;
  readonly logger?: Logger;
}

/**
 * Validates the options both routers share and returns the service to use: the given `service`, or
 * a new one built from the service options (`serviceOptionNames`) the router accepts in its place.
 */
export function routerService(
  where: string,
  options: CommonRouterOptions & Partial<Record<ServiceOptionName, unknown>>,
  extraOptionNames: readonly string[],
  serviceOptionNames: readonly ServiceOptionName[],
  requireStore: boolean,
): PasswordService {
  checkKnownOptions(where, options, [...COMMON_ROUTER_OPTION_NAMES, ...extraOptionNames, ...serviceOptionNames]);
  requireFunction(where, 'authenticate', options.authenticate, '(req) => principal | null, identifying the caller');
  requireFunction(
    where,
    'lookupInstance',
    options.lookupInstance,
    '({ principal, instanceId, action }) => { id } | null, deciding which instance and whether the caller may act on it',
  );
  optionalFunction(where, 'principalId', options.principalId);
  const given = serviceOptionNames.filter((name) => options[name] !== undefined);
  if (options.service === undefined) {
    if (requireStore && options.store === undefined) {
      throw new OptionsError(
        'ERR_MISSING_OPTION',
        `${where}: pass the \`service\` (or \`store\`) the guest router writes to; an empty store of its own would never hold a password.`,
      );
    }
    const serviceOptions = Object.fromEntries(given.map((name) => [name, options[name]])) as PasswordServiceOptions;
    return new PasswordService({ ...serviceOptions, ...(options.logger && { logger: options.logger }) });
  }
  if (!(options.service instanceof PasswordService)) {
    throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`service\` must be a PasswordService.`);
  }
  if (given.length > 0) {
    throw new OptionsError(
      'ERR_CONFLICTING_OPTIONS',
      `${where}: pass \`${given.join('`, `')}\` to the PasswordService you give as \`service\`, not to the router.`,
    );
  }
  return options.service;
}
