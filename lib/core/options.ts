/** Stable codes of the errors thrown at creation for bad options. */
export type OptionsErrorCode =
  | 'ERR_UNKNOWN_OPTION'
  | 'ERR_MISSING_OPTION'
  | 'ERR_INVALID_OPTION';

/** Thrown by constructors and factories when an option is unknown, misplaced, missing or invalid. */
export class OptionsError extends TypeError {
  readonly code: OptionsErrorCode;

  constructor(code: OptionsErrorCode, message: string) {
    super(`express-metadata-password: ${message}`);
    this.name = 'OptionsError';
    this.code = code;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      const cost = a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1;
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length];
}

function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Checks that `options` is a plain object whose keys are all in `known`, suggesting the nearest
 * known name for a misspelt one.
 */
export function checkKnownOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError('ERR_INVALID_OPTION', `${where} takes an options object.`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const hint = suggestion
      ? `Did you mean \`${suggestion}\`?`
      : `Known options: ${known.map((name) => `\`${name}\``).join(', ')}.`;
    throw new OptionsError('ERR_UNKNOWN_OPTION', `${where}: unknown option \`${key}\`. ${hint}`);
  }
}

/**
 * The names of an options type, listed once and checked by the compiler against the type: a name
 * missing from `names` or one the type does not have is a type error, so the list of known names
 * the creation check uses cannot drift from the options' type.
 */
export function optionNames<T>(names: { readonly [K in keyof Required<T>]: true }): ReadonlyArray<keyof T & string> {
  return Object.keys(names) as Array<keyof T & string>;
}

/** Requires `value` to be a function; `what` names it in the message. */
export function requireFunction(where: string, name: string, value: unknown, what: string): void {
  if (typeof value === 'function') return;
  const code = value === undefined ? 'ERR_MISSING_OPTION' : 'ERR_INVALID_OPTION';
  throw new OptionsError(code, `${where}: \`${name}\` must be a function: ${what}.`);
}

/** Requires `value`, when given, to be a function. */
export function optionalFunction(where: string, name: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`${name}\` must be a function when given.`);
}

/** Requires `value`, when given, to be an integer in [min, max]. */
export function optionalInteger(
  where: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
  unit: string,
): void {
  if (value === undefined) return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return;
  throw new OptionsError(
    'ERR_INVALID_OPTION',
    `${where}: \`${name}\` must be an integer from ${min} to ${max} (${unit}); got ${String(value)}.`,
  );
}
