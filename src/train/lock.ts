/**
 * One trainer per run folder: `RUN/lock` holds the holder's pid, host and start time. It is created
 * with O_EXCL (`'wx'`), so of two trainers racing for one folder exactly one gets it; the other
 * gets an error naming the holder. Released by `release()` and, should the process exit without
 * it (a second Ctrl-C calls process.exit), by an 'exit' listener. A lock left by a process that died
 * without exiting (SIGKILL, a crash) is stale: its pid no longer runs on this host, and the next
 * trainer removes it and says so. A lock from another host cannot be checked and is never removed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ValueError } from '../errors';

export interface LockHolder {
  pid: number;
  host: string;
  since: string; // ISO time the lock was taken
}

export interface RunLock {
  file: string;
  holder: LockHolder;
  /** Remove the lock file if it is still ours (idempotent). */
  release(): void;
}

/** A lock file younger than this with no readable holder may still be being written by its creator. */
const WRITING_MS = 10_000;

function readHolder(file: string): { text: string; holder: LockHolder | null } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // released meanwhile
    throw e;
  }
  try {
    const h = JSON.parse(text);
    return { text, holder: Number.isInteger(h?.pid) && typeof h.host === 'string' ? h : null };
  } catch {
    return { text, holder: null };
  }
}

/** Whether `pid` runs on this host (a process of another user counts: kill(pid, 0) gives EPERM). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Why the lock in `file` is stale, or null when its holder may still be alive. */
function staleReason(file: string, holder: LockHolder | null): string | null {
  if (!holder) {
    const age = Date.now() - fs.statSync(file).mtimeMs;
    return age > WRITING_MS ? `it holds no pid (its creator died while writing it, ${Math.round(age / 1000)} s ago)` : null;
  }
  if (holder.host !== os.hostname() || running(holder.pid)) return null;
  return `pid ${holder.pid} (since ${holder.since}) no longer runs on ${holder.host}`;
}

function heldError(runDir: string, file: string, holder: LockHolder | null): ValueError {
  const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'a trainer that is starting (the lock has no holder yet)';
  const stop = holder ? `stop it (kill ${holder.pid}${holder.host === os.hostname() ? '' : ` on ${holder.host}`}), ` : '';
  return new ValueError(
    `train expects ${runDir} to be free, but it is locked by ${who}: another trainer is writing this run folder. ` +
      `Wait for it to finish, ${stop}or use another --out; if that trainer is gone, delete ${file}.`,
  );
}

/** Take `RUN/lock` (the folder must exist); a live holder is a ValueError naming it. `log` reports a stale lock removed. */
export function acquireRunLock(runDir: string, log: (line: string) => void = () => {}): RunLock {
  const file = path.join(runDir, 'lock');
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  const mine = JSON.stringify(holder) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, mine);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const release = () => {
        process.off('exit', release);
        if (readHolder(file)?.text === mine) fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return { file, holder, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readHolder(file);
    if (!seen) continue; // released between our open and our read
    const why = staleReason(file, seen.holder);
    if (!why) throw heldError(runDir, file, seen.holder);
    // Move the stale lock aside under a name of our own, then check that it is the one judged stale:
    // of two trainers taking over the same stale lock, only one may delete it.
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (fs.readFileSync(aside, 'utf8') !== seen.text) {
      fs.renameSync(aside, file); // another trainer's fresh lock: give it back
      continue;
    }
    fs.rmSync(aside, { force: true });
    log(`removed the stale lock ${file}: ${why}`);
  }
  const last = readHolder(file);
  throw heldError(runDir, file, last?.holder ?? null);
}
