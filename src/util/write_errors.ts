/**
 * A failed write as one line for the user: which path, why (permission, read-only file system, full
 * disk, a file where a folder should be) and what to do, instead of an EACCES/ENOSPC stack trace.
 * Shared by the run folder (train/) and the data cache (data/).
 */
import { DataError } from '../errors';

/** The errno codes of a write that the user can fix, in words. */
const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file is in the way of a folder',
  EISDIR: 'a folder is in the way of a file',
};

/**
 * `err` as a DataError "`who` expects a writable `path`, but received <why> (<code>). <fix>", or
 * null when it is not a failed write of that kind. `path` is used when `err` names none (a write
 * through a file descriptor).
 */
export function writeError(err: unknown, who: string, path: string, fix: string): DataError | null {
  const e = err as NodeJS.ErrnoException;
  const why = typeof e?.code === 'string' ? WHY[e.code] : undefined;
  if (!why) return null;
  return new DataError(`${who} expects a writable ${e.path ?? path}, but received ${why} (${e.code}). ${fix}`);
}

/** Run `fn`; a failed write (see writeError) is rethrown as that one-line DataError. */
export function guardWrite<T>(who: string, path: string, fix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw writeError(err, who, path, fix) ?? err;
  }
}
