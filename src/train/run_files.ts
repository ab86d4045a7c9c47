/**
 * The run folder's plain files: `config.json`, `metrics.jsonl` (one JSON object per epoch, which
 * arquero reads with `aq.loadJSON`/`aq.from` after splitting lines), `summary.json`, and other
 * per-epoch `.jsonl` files (`snapshots.jsonl`) that the same functions read, append and truncate.
 * Every rewrite goes through a temp file and a rename, so a kill never leaves half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Write (flag 'w') or append (flag 'a') `data` and fsync before returning. */
export function writeFileSynced(file: string, data: string | Uint8Array, flag: 'w' | 'a' = 'w'): void {
  const fd = fs.openSync(file, flag);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
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

/** The rows of `RUN/metrics.jsonl` (or of `RUN/name`; an empty list when there is none). */
export function readMetrics<T = Record<string, unknown>>(runDir: string, name = 'metrics.jsonl'): T[] {
  const file = path.join(runDir, name);
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** Append one row (one line) to `RUN/metrics.jsonl` (or to `RUN/name`). */
export function appendMetrics(runDir: string, row: object, name = 'metrics.jsonl'): void {
  writeFileSynced(path.join(runDir, name), JSON.stringify(row) + '\n', 'a');
}

/**
 * Keep only the rows of epochs <= `epochs` (a run killed after logging an epoch but before its
 * checkpoint landed repeats that epoch on resume, and must not log it twice).
 */
export function truncateMetrics(runDir: string, epochs: number, name = 'metrics.jsonl'): void {
  const rows = readMetrics<{ epoch: number }>(runDir, name);
  const kept = rows.filter((r) => r.epoch <= epochs);
  if (kept.length !== rows.length) {
    writeFileAtomic(path.join(runDir, name), kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
