import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Request } from 'express';
import { passwordError } from '../core/errors';
import { checkKnownOptions, optionNames, OptionsError } from '../core/options';

/** Options of `signedProxyIdentity`. */
export interface SignedProxyIdentityOptions {
  /**
   * Nova's `metadata_proxy_shared_secret`, at least 16 characters; or a non-empty list of them, any
   * of which signs a valid request, to rotate the secret without downtime (`[next, current]`).
   */
  readonly secret: string | readonly string[];
}

/** The caller a signed metadata proxy request speaks for. */
export interface ProxyPrincipal {
  /** The instance the proxy vouches for (`X-Instance-ID`). */
  readonly instanceId: string;
  /** The instance's project (`X-Tenant-ID`); the host's `lookupInstance` should check it. */
  readonly projectId: string;
  /**
   * Which secret signed the request: its 0-based index in the `secret` list (always 0 for a single
   * secret). While rotating, a host that never sees the old secret's index any more may remove it.
   */
  readonly secretIndex: number;
}

/**
 * The `authenticate` hook `signedProxyIdentity` returns: it returns the principal or throws, never
 * null, so a host wrapping it reads `secretIndex` without a check.
 */
export type ProxyIdentityHook = (req: Request) => ProxyPrincipal;

const OPTION_NAMES = optionNames<SignedProxyIdentityOptions>({ secret: true });
const MIN_SECRET_LENGTH = 16;
const INSTANCE_ID = 'x-instance-id';
const TENANT_ID = 'x-tenant-id';
const SIGNATURE = 'x-instance-id-signature';
const HEADER_NAMES: Record<string, string> = {
  [INSTANCE_ID]: 'X-Instance-ID',
  [TENANT_ID]: 'X-Tenant-ID',
  [SIGNATURE]: 'X-Instance-ID-Signature',
};

function singleHeader(req: Request, name: string): string {
  // Node joins a repeated header's values with ", ", which none of these values contain; only then
  // is the costlier headersDistinct (arrays of every header) needed to tell a repeat apart.
  const joined = req.headers[name];
  if (typeof joined === 'string' && joined !== '' && !joined.includes(',')) return joined;
  const values = req.headersDistinct[name];
  if (!values || values.length === 0 || values[0] === '') {
    throw passwordError('BAD_REQUEST', `The ${HEADER_NAMES[name]} header is missing.`);
  }
  if (values.length > 1) {
    throw passwordError('BAD_REQUEST', `The ${HEADER_NAMES[name]} header is repeated.`);
  }
  return values[0];
}

/** The secrets of `options.secret` as HMAC keys, made once; throws when they are not usable. */
function secretKeys(where: string, secret: unknown): KeyObject[] {
  const hint = 'the metadata proxy shared secret; make one with `openssl rand -hex 32`.';
  if (Array.isArray(secret)) {
    if (secret.length === 0) {
      throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`secret\` must list at least one secret, ${hint}`);
    }
    return secret.map((each: unknown, index) => {
      if (typeof each !== 'string' || each.length < MIN_SECRET_LENGTH) {
        throw new OptionsError(
          'ERR_INVALID_OPTION',
          `${where}: \`secret[${index}]\` must be a string of at least ${MIN_SECRET_LENGTH} characters, ${hint}`,
        );
      }
      return createSecretKey(Buffer.from(each));
    });
  }
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new OptionsError(
      secret === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION',
      `${where}: \`secret\` must be a string of at least ${MIN_SECRET_LENGTH} characters (or a list of them), ${hint}`,
    );
  }
  return [createSecretKey(Buffer.from(secret))];
}

/** The index of the key whose signature of `instanceId` is `signature`, or -1; constant-time per key. */
function signingKeyIndex(keys: readonly KeyObject[], instanceId: string, signature: Buffer): number {
  for (let index = 0; index < keys.length; index++) {
    const expected = Buffer.from(createHmac('sha256', keys[index]).update(instanceId).digest('hex'));
    // timingSafeEqual needs equal lengths; a wrong length is still compared, against itself.
    const matches =
      signature.length === expected.length
        ? timingSafeEqual(signature, expected)
        : !timingSafeEqual(expected, expected);
    if (matches) return index;
  }
  return -1;
}

/**
 * An `authenticate` hook for Nova/Neutron's signed metadata proxy headers: `X-Instance-ID`,
 * `X-Tenant-ID` and `X-Instance-ID-Signature`, the hex HMAC-SHA256 of the instance id keyed with the
 * shared secret. A missing or repeated header answers 400 `BAD_REQUEST`; a signature made with none
 * of the secrets 403 `FORBIDDEN`, compared in constant time with each. The principal's `secretIndex`
 * says which secret matched.
 */
export function signedProxyIdentity(options: SignedProxyIdentityOptions): ProxyIdentityHook {
  const where = 'signedProxyIdentity()';
  checkKnownOptions(where, options, OPTION_NAMES);
  const keys = secretKeys(where, options.secret);
  return (req) => {
    const instanceId = singleHeader(req, INSTANCE_ID);
    const projectId = singleHeader(req, TENANT_ID);
    const signature = Buffer.from(singleHeader(req, SIGNATURE));
    const secretIndex = signingKeyIndex(keys, instanceId, signature);
    if (secretIndex === -1) throw passwordError('FORBIDDEN', 'Invalid proxy request signature.');
    return { instanceId, projectId, secretIndex };
  };
}
