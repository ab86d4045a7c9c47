/**
 * Opening a run folder for training, so that a run is never lost or mixed with another:
 *   - one trainer at a time (lock.ts);
 *   - a checkpoint: continued with `resume` (its config wins, see resumeConfig), refused without;
 *   - results (metrics.jsonl, summary.json) but no checkpoint, e.g. a copy of a committed run:
 *     refused, nothing touched; `restart` deletes results and checkpoints and starts over;
 *   - a finished run (checkpoint at the last epoch and a summary): returned as it is, nothing rewritten;
 *   - a full disk, a read-only or unwritable folder: one line naming the path and what to do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValueError } from '../errors';
import { writeError } from '../util/write_errors';
import { findCheckpoint, loadCheckpoint, type Checkpoint } from './checkpoint';
import { resolveConfig, type TrainConfig } from './config';
import { acquireRunLock, type RunLock } from './lock';
import { truncateMetrics, writeJson } from './run_files';
import { SNAPSHOTS_FILE } from './snapshots';
import type { TrainSummary } from './train';

/** Files whose presence means the folder holds a run's results. */
const RESULT_FILES = ['metrics.jsonl', SNAPSHOTS_FILE, 'summary.json'];

/** Keys a resumed run may change; every other key comes from the checkpoint. */
const RESUMABLE_KEYS: (keyof TrainConfig)[] = ['data', 'out', 'budgetMinutes', 'backend'];

/** The checkpoint's config, with the overrides a resume may change; a conflicting key is an error. */
function resumeConfig(saved: TrainConfig, overrides: Partial<TrainConfig>): TrainConfig {
  for (const [k, v] of Object.entries(overrides) as [keyof TrainConfig, unknown][]) {
    if (v === undefined || RESUMABLE_KEYS.includes(k) || saved[k] === v) continue;
    throw new ValueError(`--resume expects ${k} to stay ${JSON.stringify(saved[k])} (as in the checkpoint), but received ${JSON.stringify(v)}. Only ${RESUMABLE_KEYS.join(', ')} may change on resume; start a new run (another --out) to change it.`);
  }
  const set = Object.fromEntries(RESUMABLE_KEYS.filter((k) => overrides[k] !== undefined).map((k) => [k, overrides[k]]));
  return resolveConfig({ ...saved, ...set });
}

export interface RunFolder {
  /** The run's config: the checkpoint's on resume. */
  config: TrainConfig;
  /** The checkpoint to continue from (null: a new run). */
  ckpt: Checkpoint | null;
  /** The run had already finished: its summary, untouched on disk (message: that it was finished). */
  finished: TrainSummary | null;
  /** Held until the caller releases it. */
  lock: RunLock;
}

export interface OpenRunOptions {
  /** Continue from the checkpoint (a new run when there is none). */
  resume?: boolean;
  /** Delete the folder's results and checkpoints, then start a new run. */
  restart?: boolean;
  log: (line: string) => void;
}

/** A failed write inside `out` as one line with the fix (see writeError); null for any other error. */
export function runFolderError(err: unknown, out: string): Error | null {
  const where = (err as NodeJS.ErrnoException)?.path;
  const [dir, at] = [path.resolve(out), path.resolve(where ?? out)];
  const inside = at === dir || at.startsWith(dir + path.sep) || dir.startsWith(at + path.sep); // or a file in the way above it
  return inside ? writeError(err, 'train', out, 'Free space or make it writable, or choose a writable --out.') : null;
}

/** Lock `overrides.out` and decide new run / resume / finished (see the module comment). */
export function openRunFolder(overrides: Partial<TrainConfig>, opts: OpenRunOptions): RunFolder {
  if (opts.resume && opts.restart) {
    throw new ValueError('train expects --resume or --restart, but received both. --resume continues the run in --out; --restart deletes its results and starts over.');
  }
  const config = resolveConfig(overrides);
  let lock: RunLock;
  try {
    fs.mkdirSync(config.out, { recursive: true });
    lock = acquireRunLock(config.out, opts.log);
  } catch (e) {
    throw runFolderError(e, config.out) ?? e;
  }
  try {
    return { ...prepare(config, overrides, opts), lock };
  } catch (e) {
    lock.release();
    throw runFolderError(e, config.out) ?? e;
  }
}

function prepare(config: TrainConfig, overrides: Partial<TrainConfig>, opts: OpenRunOptions): Omit<RunFolder, 'lock'> {
  const { out } = config;
  const file = (name: string) => path.join(out, name);
  if (opts.restart) {
    const there = [...RESULT_FILES, 'checkpoint', 'checkpoint.old', 'checkpoint.tmp'].filter((f) => fs.existsSync(file(f)));
    there.forEach((f) => fs.rmSync(file(f), { recursive: true, force: true }));
    if (there.length) opts.log(`--restart: deleted ${there.join(', ')} in ${out}; starting over`);
  }
  if (findCheckpoint(out)) {
    if (!opts.resume) throw new ValueError(`train expects a new run folder, but ${out} already holds a checkpoint. Pass --resume to continue it, --restart to delete it and start over, or --out DIR for a new run.`);
    const ckpt = loadCheckpoint(out, opts.log);
    const resumed = resumeConfig(ckpt.config, { ...overrides, out });
    const finished = ckpt.epoch >= resumed.epochs ? finishedSummary(out, opts.log) : null;
    if (finished) {
      opts.log(finished.message);
      return { config: resumed, ckpt, finished };
    }
    opts.log(`resuming ${out} at epoch ${ckpt.epoch + 1}${ckpt.step ? `, batch ${ckpt.step + 1}` : ''}`);
    writeJson(file('config.json'), resumed);
    for (const name of ['metrics.jsonl', SNAPSHOTS_FILE]) truncateMetrics(out, ckpt.epoch, opts.log, name);
    return { config: resumed, ckpt, finished: null };
  }
  const results = RESULT_FILES.filter((f) => fs.existsSync(file(f)));
  if (results.length) {
    throw new ValueError(`train expects ${out} to hold no results without a checkpoint, but it holds ${results.join(' and ')} and no checkpoint/ (a copied or finished run?); nothing was changed. Pass --restart to delete them and start over, or --out DIR for a new run.`);
  }
  if (opts.resume) opts.log(`no checkpoint in ${out}: starting a new run`);
  writeJson(file('config.json'), config);
  return { config, ckpt: null, finished: null };
}

/** The summary of a run whose checkpoint is at its last epoch, or null when it has none readable (then the run writes it). */
function finishedSummary(out: string, log: (line: string) => void): TrainSummary | null {
  const file = path.join(out, 'summary.json');
  if (!fs.existsSync(file)) return null;
  let summary: TrainSummary;
  try {
    summary = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    log(`${file} does not parse (${(e as Error).message}): writing it again`);
    return null;
  }
  if (summary.status !== 'done') return null;
  return { ...summary, message: `${out} had already finished its ${summary.epochsPlanned} epochs; nothing was changed. Its summary: ${summary.message}` };
}
