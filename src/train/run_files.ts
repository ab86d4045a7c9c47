/**
 * The run folder's plain files: `config.json`, `metrics.jsonl` (one JSON object per epoch, which
 * arquero reads with `aq.loadJSON`/`aq.from` after splitting lines), `summary.json`, and other
 * per-epoch `.jsonl` files (`snapshots.jsonl`) that the same functions read, append and truncate.
 * Every rewrite goes through a temp file and a rename, so a kill never leaves half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';

/** Write (flag 'w') or append (flag 'a') `data` and fsync before returning. */
export function writeFileSynced(file: string, data: string | Uint8Array, flag: 'w' | 'a' = 'w'): void {
  const fd = fs.openSync(file, flag);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    (e as NodeJS.ErrnoException).path ??= file; // a write through a descriptor names no file (ENOSPC)
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** Write `text` to `file` atomically (temp file in the same folder, fsync, rename). */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSynced(tmp, text);
  fs.renameSync(tmp, file);
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * The rows of `RUN/metrics.jsonl` (or of `RUN/name`, e.g. snapshots.jsonl; an empty list when there
 * is none). A torn last line (a kill mid-append) is dropped, reported through `warn`; a bad line
 * elsewhere is a DataError naming the file and line.
 */
export function readMetrics<T = Record<string, unknown>>(runDir: string, warn: (line: string) => void = console.warn, name = 'metrics.jsonl'): T[] {
  return readMetricsFile<T>(runDir, warn, name).rows;
}

function readMetricsFile<T>(runDir: string, warn: (line: string) => void, name: string): { rows: T[]; torn: boolean } {
  const file = path.join(runDir, name);
  if (!fs.existsSync(file)) return { rows: [], torn: false };
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const rows: T[] = [];
  let torn = text.length > 0 && !text.endsWith('\n'); // the next append would be glued to it
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    try {
      rows.push(JSON.parse(lines[i]) as T);
    } catch (e) {
      if (i < lines.length - 1) throw new DataError(`readMetrics expects one JSON object per line in ${file}, but line ${i + 1} does not parse (${(e as Error).message}). Fix or delete that line.`);
      warn(`${file}: dropped its last line, cut short by a kill while it was written: ${JSON.stringify(lines[i].slice(0, 60))}…`);
      torn = true;
    }
  }
  return { rows, torn };
}

/** Append one row (one line) to `RUN/metrics.jsonl` (or to `RUN/name`). */
export function appendMetrics(runDir: string, row: object, name = 'metrics.jsonl'): void {
  writeFileSynced(path.join(runDir, name), JSON.stringify(row) + '\n', 'a');
}

/**
 * Keep only the rows of epochs <= `epochs` (a run killed after logging an epoch but before its
 * checkpoint landed repeats that epoch on resume, and must not log it twice), and drop a torn last
 * line (reported through `warn`) so that the next row starts on a line of its own.
 */
export function truncateMetrics(runDir: string, epochs: number, warn: (line: string) => void = console.warn, name = 'metrics.jsonl'): void {
  const { rows, torn } = readMetricsFile<{ epoch: number }>(runDir, warn, name);
  const kept = rows.filter((r) => r.epoch <= epochs);
  if (torn || kept.length !== rows.length) {
    writeFileAtomic(path.join(runDir, name), kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
