/** The longest server id the owner router and the CLI accept. */
const MAX_SERVER_ID_LENGTH = 255;

/**
 * A server id as the owner API's path takes it: unreserved URL characters only, so it needs no
 * escaping, and never `.` or `..` (nor any id of dots alone), which a host building an upstream URL
 * from it would resolve as a path segment.
 */
export const SERVER_ID = new RegExp(`^(?!\\.+$)[A-Za-z0-9._~-]{1,${MAX_SERVER_ID_LENGTH}}$`);

/** What a server id must be, for messages. */
export const SERVER_ID_RULE = `1 to ${MAX_SERVER_ID_LENGTH} characters of A-Z, a-z, 0-9, '.', '_', '~' and '-', and not only dots`;

/** Whether `text` is a server id (`SERVER_ID`). */
export function isServerId(text: string): boolean {
  return SERVER_ID.test(text);
}
