import { passwordError } from './errors';

/** The longest instance id a store keeps. */
const MAX_INSTANCE_ID_LENGTH = 255;

// U+0000 to U+001F: PostgreSQL's text cannot hold U+0000, and none of them belongs in an id.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const C0_CONTROL = /[\u0000-\u001f]/;

/** What an instance id must be, for messages. */
export const INSTANCE_ID_RULE = `1 to ${MAX_INSTANCE_ID_LENGTH} characters of well-formed UTF-16 without control characters (U+0000 to U+001F)`;

/**
 * Whether `value` can key a password on every store: a non-empty string of at most 255 characters,
 * well-formed UTF-16, no C0 control. A lone surrogate is refused because Redis and PostgreSQL both
 * store it as U+FFFD, so `'vm\uD800'` and `'vm\uDC00'` would share one password; U+0000 because
 * PostgreSQL refuses it, which would make one store answer 503 where another stores.
 */
export function isInstanceId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_INSTANCE_ID_LENGTH &&
    value.isWellFormed() &&
    !C0_CONTROL.test(value)
  );
}

/** Requires `id` to be an instance id every store can hold: 400 `BAD_REQUEST` otherwise. */
export function checkInstanceId(id: unknown): asserts id is string {
  if (!isInstanceId(id)) throw passwordError('BAD_REQUEST', `An instance id must be ${INSTANCE_ID_RULE}.`);
}
