/** The longest instance id a store keeps. */
export const MAX_INSTANCE_ID_LENGTH = 255;

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `value` can key a password: a non-empty string of at most 255 characters, well-formed
 * UTF-16. A lone surrogate is refused because Redis and PostgreSQL both store it as U+FFFD, so
 * `'vm\uD800'` and `'vm\uDC00'` would share one password.
 */
export function isInstanceId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_INSTANCE_ID_LENGTH &&
    !LONE_SURROGATE.test(value)
  );
}
