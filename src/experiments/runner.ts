/**
 * Run a sweep's rows as separate train processes, N at a time.
 *
 * Each row's state is read from its run folder before anything starts:
 *   summary.json says 'done' or 'budget'  → finished: skipped;
 *   summary.json says 'nan'               → failed before: reported, not rerun (delete the folder to retry);
 *   `runner.pid` names a live process      → running (another runner has it): skipped;
 *   the folder exists otherwise           → interrupted: continued with --resume;
 *   no folder                             → started fresh.
 * A row that fails is reported with the tail of its log (`<run>/train.log`) and the others go on.
 * Rows run in their own process group, so a Ctrl-C reaches them once, through the runner: SIGINT
 * and SIGTERM are passed on, the rows checkpoint and stop, and the same command resumes them.
 */
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../util/progress';
import type { RowPlan } from './sweep';

/** The fields of the trainer's summary.json that the runner and the report read. */
export interface RunSummary {
  status: 'done' | 'budget' | 'nan' | 'interrupted' | string;
  message?: string;
  epochsTrained?: number;
  epochsPlanned?: number;
  bestTestAcc?: number;
  finalTestAcc?: number;
  params?: number;
  flops?: number;
  dataLabel?: string;
  backend?: string;
  machine?: string;
  wallSeconds?: number;
}

export type RowState = 'new' | 'resume' | 'finished' | 'failed' | 'running';

/** What the run folder says about a row (see the module comment). */
export function rowState(runDir: string): { state: RowState; summary?: RunSummary; pid?: number } {
  const summary = readSummary(runDir);
  if (summary?.status === 'done' || summary?.status === 'budget') return { state: 'finished', summary };
  if (summary?.status === 'nan') return { state: 'failed', summary };
  const pid = runningPid(runDir);
  if (pid !== undefined) return { state: 'running', summary, pid };
  return { state: existsSync(runDir) ? 'resume' : 'new', summary };
}

/** The pid in `runner.pid` when that process is alive. */
function runningPid(runDir: string): number | undefined {
  const file = join(runDir, PID_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // stale: that process is gone
  }
}

const PID_FILE = 'runner.pid';
/** The runner's account of a row's last attempt: { status, message, exitCode, signal, seconds, at }. */
export const OUTCOME_FILE = 'runner.json';

export function readSummary(runDir: string): RunSummary | undefined {
  const file = join(runDir, 'summary.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  } catch {
    return undefined; // written atomically by the trainer, so this is a foreign or damaged file
  }
}

export type RowStatus = 'skipped' | 'done' | 'budget' | 'failed' | 'interrupted' | 'running';

export interface RowOutcome {
  plan: RowPlan;
  status: RowStatus;
  resumed: boolean;
  summary?: RunSummary;
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines of the row's log when it failed. */
  logTail?: string;
  seconds: number;
  message: string;
}

export interface RunnerOptions {
  /** Rows run at the same time. Defaults to 1. */
  jobs?: number;
  /** The train command, before the row's flags. Defaults to `node --import tsx src/cli/train.ts`. */
  command?: string[];
  /** Working directory of the rows. Defaults to the current one. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where progress lines go. Defaults to console.log. */
  log?: (line: string) => void;
  /** Log lines shown for a failed row. Defaults to 25. */
  tailLines?: number;
}

export const DEFAULT_TRAIN_COMMAND = [process.execPath, '--import', 'tsx', 'src/cli/train.ts'];

/** The full command line of a row, as a user would type it (for --print and batch schedulers). */
export function rowCommand(plan: RowPlan, command: string[] = ['npm', 'run', 'train', '--'], resume = false): string[] {
  return [...command, ...plan.args, ...(resume ? ['--resume'] : [])];
}

/** Run the rows (see the module comment); resolves when every row has finished or failed. */
export async function runSweep(plans: RowPlan[], options: RunnerOptions = {}): Promise<RowOutcome[]> {
  const jobs = Math.max(1, options.jobs ?? 1);
  const log = options.log ?? ((line: string) => console.log(line));
  const outcomes: RowOutcome[] = new Array(plans.length);
  const running = new Set<ChildProcess>();
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stopping) log(`${sig}: asking ${running.size} running row(s) to checkpoint and stop; run the same command again to resume.`);
    stopping = true;
    for (const child of running) child.kill(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let next = 0;
  const total = plans.length;
  const worker = async () => {
    while (next < plans.length) {
      const i = next++;
      const plan = plans[i];
      const tag = `[${i + 1}/${total}] ${plan.sweep}/${plan.mode}/${plan.row.id}`;
      if (stopping) {
        outcomes[i] = { plan, status: 'interrupted', resumed: false, seconds: 0, message: 'not started (stopping)' };
        continue;
      }
      const { state, summary, pid } = rowState(plan.runDir);
      if (state === 'running') {
        const message = `already running in process ${pid} (delete ${join(plan.runDir, PID_FILE)} if it is not a training run)`;
        log(`${tag}: skipped, ${message}`);
        outcomes[i] = { plan, status: 'running', resumed: false, seconds: 0, message };
        continue;
      }
      if (state === 'finished' || state === 'failed') {
        const status = state === 'finished' ? 'skipped' : 'failed';
        const message = state === 'finished'
          ? `already ${summary!.status}: ${describe(summary!)}`
          : `stopped earlier with status ${summary!.status} (${summary!.message ?? 'no message'}); delete ${plan.runDir} to run it again`;
        log(`${tag}: ${status}, ${message}`);
        outcomes[i] = { plan, status, resumed: false, summary, seconds: 0, message };
        continue;
      }
      outcomes[i] = await runRow(plan, state === 'resume', tag, options, log, running);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, plans.length) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return outcomes;
}

async function runRow(
  plan: RowPlan, resume: boolean, tag: string, options: RunnerOptions, log: (line: string) => void, running: Set<ChildProcess>,
): Promise<RowOutcome> {
  const command = options.command ?? DEFAULT_TRAIN_COMMAND;
  const argv = rowCommand(plan, command, resume);
  mkdirSync(plan.runDir, { recursive: true });
  const logFile = join(plan.runDir, 'train.log');
  const fd = openSync(logFile, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} ${argv.map(shellQuote).join(' ')}\n`);
  const started = Date.now();
  const codeVersion = gitVersion(options.cwd);
  log(`${tag}: ${resume ? 'resuming' : 'starting'} (log: ${logFile})`);
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, fd], detached: true,
  });
  running.add(child);
  if (child.pid) writeFileSync(join(plan.runDir, PID_FILE), `${child.pid}\n`);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      writeSync(fd, `runner: cannot start ${argv[0]}: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  running.delete(child);
  rmSync(join(plan.runDir, PID_FILE), { force: true });
  closeSync(fd);
  const seconds = (Date.now() - started) / 1000;
  // Only a summary written by this process counts (a resumed row may hold an older one).
  const fresh = existsSync(join(plan.runDir, 'summary.json')) && statSync(join(plan.runDir, 'summary.json')).mtimeMs >= started - 1000;
  const summary = fresh ? readSummary(plan.runDir) : undefined;
  const base = { plan, resumed: resume, summary, exitCode: code, signal, seconds };
  const record = (status: RowStatus, message: string) =>
    writeFileSync(join(plan.runDir, OUTCOME_FILE), JSON.stringify({ status, message, exitCode: code, signal, seconds, code: codeVersion, at: new Date().toISOString() }, null, 2) + '\n');
  if (code === 0 && (summary?.status === 'done' || summary?.status === 'budget')) {
    const message = describe(summary);
    log(`${tag}: ${summary.status} in ${formatDuration(seconds)}, ${message}`);
    record(summary.status, message);
    return { ...base, status: summary.status, message };
  }
  if (summary?.status === 'interrupted') {
    log(`${tag}: interrupted after ${formatDuration(seconds)} (checkpoint kept; run again to resume)`);
    record('interrupted', summary.message ?? 'interrupted');
    return { ...base, status: 'interrupted', message: summary.message ?? 'interrupted' };
  }
  const why = summary?.status === 'nan'
    ? `stopped: ${summary.message ?? 'NaN loss'}`
    : signal ? `killed by ${signal}` : code === null ? 'could not start' : `exited with code ${code}${summary ? '' : ' without writing summary.json'}`;
  const logTail = tail(logFile, options.tailLines ?? 25);
  record('failed', why);
  log(`${tag}: FAILED (${why}) after ${formatDuration(seconds)}. Last lines of ${logFile}:\n${indent(logTail)}`);
  return { ...base, status: 'failed', logTail, message: why };
}

/** "5/200 epochs, best test acc 41.20% (CIFAR-10 (JPEG-75 copy))". */
export function describe(s: RunSummary): string {
  const acc = s.epochsTrained === 0 ? 'no epoch finished' : typeof s.bestTestAcc === 'number' ? `best test acc ${(100 * s.bestTestAcc).toFixed(2)}%` : 'no accuracy';
  return `${s.epochsTrained ?? '?'}/${s.epochsPlanned ?? '?'} epochs, ${acc}${s.dataLabel ? ` (${s.dataLabel})` : ''}`;
}

/** The last `n` lines of a file. */
export function tail(file: string, n: number): string {
  if (!existsSync(file)) return '(no log)';
  const lines = readFileSync(file, 'utf8').split(/\r?\n|\r/).filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

/** The code a row ran: the git commit, with '+dirty' when the working tree has changes; null outside git. */
export function gitVersion(cwd?: string): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : '');
  } catch {
    return null;
  }
}

/** Quote an argument for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
