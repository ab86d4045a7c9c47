/**
 * Reproduce the paper's tables: run a sweep's rows through the train CLI, then report.
 *
 *   npm run tables -- table2 [--jobs N] [--budget-minutes M] [--only id,id] [--set key=value ...]
 *   npm run tables -- table2 --budget-minutes 20 --print   # the rows' commands, for a batch scheduler
 *   npm run tables -- --report [table2 ...]                # reports/<sweep>.md and .html from the runs so far
 *   npm run tables -- --list
 *
 * Runs go to runs/<sweep>/<full|budget-Mmin>/<row>/; a second invocation skips finished rows and
 * resumes interrupted ones. Reports go to reports/.
 */
import { readdirSync } from 'node:fs';
import { isUserError, ValueError } from '../errors';
import { rowCommand, rowState, runSweep, shellQuote } from '../experiments/runner';
import { modelComplexity } from '../experiments/complexity';
import { writeReport } from '../experiments/report';
import { loadSweep, planSweep, type Args } from '../experiments/sweep';

const USAGE = `Usage:
  npm run tables -- SWEEP [SWEEP ...] [--jobs N] [--budget-minutes M] [--only ID,ID] [--set KEY=VALUE ...]
                    [--runs DIR] [--reports DIR] [--print] [--command "node --import tsx src/cli/train.ts"]
  npm run tables -- --report [SWEEP ...] [--runs DIR] [--reports DIR]
  npm run tables -- --list
SWEEP is a name in sweeps/ (${listSweeps().join(', ') || 'none found'}) or a path to a .json sweep file.`;

interface TablesArgs {
  sweeps: string[];
  jobs: number;
  budgetMinutes: number;
  only?: string[];
  overrides: Args;
  runsDir: string;
  reportsDir: string;
  print: boolean;
  report: boolean;
  list: boolean;
  command?: string[];
}

function parseTablesArgs(argv: string[]): TablesArgs {
  const a: TablesArgs = { sweeps: [], jobs: 1, budgetMinutes: 0, overrides: {}, runsDir: 'runs', reportsDir: 'reports', print: false, report: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ValueError(`tables expects a value after ${flag}, but received ${JSON.stringify(v ?? null)}.\n${USAGE}`);
      return v;
    };
    const number = (min: number) => {
      const raw = value();
      const v = Number(raw);
      if (!Number.isFinite(v) || v < min) throw new ValueError(`tables expects ${flag} to be a number >= ${min}, but received ${JSON.stringify(raw)}.`);
      return v;
    };
    switch (flag) {
      case '--jobs': a.jobs = Math.floor(number(1)); break;
      case '--budget-minutes': a.budgetMinutes = number(0); break;
      case '--only': a.only = value().split(',').filter(Boolean); break;
      case '--set': {
        const kv = value();
        const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(kv);
        if (!m) throw new ValueError(`tables expects --set KEY=VALUE with a TrainConfig key (e.g. --set maxTrain=5000), but received ${JSON.stringify(kv)}.`);
        a.overrides[m[1]] = m[2];
        break;
      }
      case '--runs': a.runsDir = value(); break;
      case '--reports': a.reportsDir = value(); break;
      case '--print': a.print = true; break;
      case '--report': a.report = true; break;
      case '--list': a.list = true; break;
      case '--command': a.command = value().split(' ').filter(Boolean); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default:
        if (flag.startsWith('-')) throw new ValueError(`tables expects one of --jobs, --budget-minutes, --only, --set, --runs, --reports, --print, --report, --list, --command, but received ${JSON.stringify(flag)}.\n${USAGE}`);
        a.sweeps.push(flag);
    }
  }
  if (!a.report && !a.list && a.sweeps.length === 0) throw new ValueError(`tables expects a sweep name, --report or --list.\n${USAGE}`);
  return a;
}

function listSweeps(dir = 'sweeps'): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
  } catch {
    return [];
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseTablesArgs(argv);
  if (args.list) {
    for (const name of listSweeps()) {
      const s = loadSweep(name);
      console.log(`${name.padEnd(16)} ${s.rows.length} rows  ${s.title}`);
    }
    return 0;
  }
  const names = args.sweeps.length ? args.sweeps : listSweeps();
  const sweeps = names.map((n) => loadSweep(n));
  let failed = 0;
  if (!args.report) {
    for (const sweep of sweeps) {
      const plans = planSweep(sweep, { budgetMinutes: args.budgetMinutes, runsDir: args.runsDir, overrides: args.overrides, only: args.only });
      if (args.print) {
        for (const p of plans) {
          // Only rows that still need training become commands: rerunning a finished row without
          // --resume would start it afresh over its results.
          const { state, summary } = rowState(p.runDir);
          if (state === 'new' || state === 'resume') console.log(rowCommand(p, undefined, state === 'resume').map(shellQuote).join(' '));
          else console.log(`# ${p.row.id}: ${state}${summary ? ` (${summary.status})` : ''}, nothing to run`);
        }
        continue;
      }
      console.log(`Sweep ${sweep.name}: ${plans.length} rows, ${args.jobs} at a time, ${args.budgetMinutes ? `budget ${args.budgetMinutes} min per row` : 'full recipe'} → ${args.runsDir}/${sweep.name}/`);
      const outcomes = await runSweep(plans, { jobs: args.jobs, command: args.command });
      failed += outcomes.filter((o) => o.status === 'failed').length;
      if (outcomes.some((o) => o.status === 'interrupted')) return 130;
    }
    if (args.print) return 0;
  }
  for (const sweep of sweeps) {
    const { markdown, html } = await writeReport(sweep, { runsDir: args.runsDir, outDir: args.reportsDir, complexity: modelComplexity });
    console.log(`Report: ${markdown} and ${html}`);
  }
  if (failed) console.log(`${failed} row(s) failed: see the log tails above; run the same command again to retry them.`);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(isUserError(err) ? err.message : err);
    process.exit(2);
  },
);
