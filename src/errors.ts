/**
 * Errors raised by this library.
 *
 * One message form everywhere: "<Who> expects <what is valid>, but received <value>."
 * so that a user sees the bad value and the fix in one line.
 */

/** A configuration or input value is invalid. */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
    // Set the prototype explicitly (instanceof works after transpilation to ES5 too).
    Object.setPrototypeOf(this, ValueError.prototype);
  }
}

/** Data on disk is missing, truncated or corrupt. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
    Object.setPrototypeOf(this, DataError.prototype);
  }
}

/** An error the user can fix from its message alone: the CLIs print it as one line, without a stack. */
export function isUserError(e: unknown): e is ValueError | DataError {
  return e instanceof ValueError || e instanceof DataError;
}

/** `JSON.stringify` that also shows NaN, Infinity and undefined as themselves. */
export function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

/** Throw a ValueError "<who> expects <expected>, but received <show(value)>." unless `ok`. */
export function expect(ok: boolean, who: string, expected: string, value: unknown): void {
  if (!ok) throw new ValueError(`${who} expects ${expected}, but received ${show(value)}.`);
}
