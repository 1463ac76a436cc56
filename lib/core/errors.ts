/** Every error code this package answers with, and its HTTP status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PASSWORD: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  INSTANCE_NOT_FOUND: 404,
  UNSUPPORTED_VERSION: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  PASSWORD_ALREADY_SET: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_ENCODING: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORE_UNAVAILABLE: 503,
} as const;

/** A stable error code, as it appears in `{"error": {"code": ...}}`. */
export type PasswordErrorCode = keyof typeof ERROR_STATUS;

/**
 * An error with an HTTP answer. Hooks throw it to answer specifically (`new PasswordError(403,
 * 'FORBIDDEN', 'Readers may not clear passwords.')`); `PasswordService` rejects with it for invalid
 * values and store failures.
 */
export class PasswordError extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** The stable error code. */
  readonly code: string;
  /** Seconds for `Retry-After`, sent with 429 and 503. */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: PasswordErrorCode | (string & {}),
    message: string,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PasswordError';
    this.status = status;
    this.code = code;
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    else if (status === 429 || status === 503) this.retryAfter = 1;
  }
}

/** Shorthand for the package's own errors, whose status follows from the code. */
export function passwordError(
  code: PasswordErrorCode,
  message: string,
  options?: { cause?: unknown; retryAfter?: number },
): PasswordError {
  return new PasswordError(ERROR_STATUS[code], code, message, options);
}

/**
 * Whether `error` is a `PasswordError` that can be answered as it is: a 4xx or 5xx status, a string
 * code and message (a hook may throw one built from anything).
 */
export function isAnswerable(error: unknown): error is PasswordError {
  return (
    error instanceof PasswordError &&
    Number.isInteger(error.status) &&
    error.status >= 400 &&
    error.status <= 599 &&
    typeof error.code === 'string' &&
    typeof error.message === 'string'
  );
}

/** The answer to a failure of the host's or the package's own making: details go to the logger. */
export function internalError(): PasswordError {
  return passwordError('INTERNAL', 'An internal error occurred.');
}
