/**
 * Checks of a JSON value's shape, small enough for the daemon's bundle (no runtime
 * dependencies). Each check returns the value, typed, or throws a ShapeError naming the field
 * (`result.cpus[2]`) and what it holds. Unknown fields pass: a newer peer may add some.
 */
export class ShapeError extends Error {}

export type Check<T> = (x: unknown, at: string) => T;

/** What a field held, in a few words for the message (never "undefined" or "[object Object]"). */
function got(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object' && x !== null) return 'an object';
  const text = JSON.stringify(x) ?? typeof x;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function expect<T>(ok: (x: unknown) => boolean, what: string): Check<T> {
  return (x, at) => {
    if (!ok(x)) throw new ShapeError(`${at} must be ${what}, not ${got(x)}`);
    return x as T;
  };
}

export const int: Check<number> = expect((x) => Number.isSafeInteger(x), 'an integer');
export const num: Check<number> = expect((x) => typeof x === 'number' && Number.isFinite(x), 'a number');
export const str: Check<string> = expect((x) => typeof x === 'string', 'a string');
export const bool: Check<boolean> = expect((x) => typeof x === 'boolean', 'true or false');
/** Anything at all (iperf3's own documents, read later by their own rules). */
export const any: Check<unknown> = (x) => x;

export function oneOf<T extends string>(...values: T[]): Check<T> {
  return expect((x) => values.includes(x as T), values.map((v) => `"${v}"`).join(' or '));
}

export function nullable<T>(c: Check<T>): Check<T | null> {
  return (x, at) => (x === null ? null : c(x, at));
}

export function optional<T>(c: Check<T>): Check<T | undefined> {
  return (x, at) => (x === undefined ? undefined : c(x, at));
}

export function list<T>(c: Check<T>): Check<T[]> {
  return (x, at) => {
    if (!Array.isArray(x)) throw new ShapeError(`${at} must be a list, not ${got(x)}`);
    x.forEach((v, i) => c(v, `${at}[${i}]`));
    return x as T[];
  };
}

export function record<T>(c: Check<T>): Check<Record<string, T>> {
  return (x, at) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ShapeError(`${at} must be an object, not ${got(x)}`);
    for (const [k, v] of Object.entries(x)) c(v, `${at}.${k}`);
    return x as Record<string, T>;
  };
}

/** An object with these fields; every field of T needs its check (optional ones: optional()). */
export function obj<T>(fields: { [K in keyof T]-?: Check<T[K]> }): Check<T> {
  return (x, at) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ShapeError(`${at} must be an object, not ${got(x)}`);
    for (const k of Object.keys(fields) as (keyof T & string)[]) fields[k]((x as Record<string, unknown>)[k], `${at}.${k}`);
    return x as T;
  };
}
