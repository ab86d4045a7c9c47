import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep, rowState } from '../../src/experiments/runner';
import { checkSweep, planSweep, trainArgs, type Sweep } from '../../src/experiments/sweep';

const FAKE = [process.execPath, join(import.meta.dirname, 'fake-train.mjs')];

function sweep(rows: Record<string, string>): Sweep {
  return checkSweep({
    name: 'fake', title: 'Fake sweep', source: 'tests', defaults: { epochs: 3 },
    budget: { args: { epochs: 2, maxTrain: 100 } },
    rows: Object.entries(rows).map(([id, fake]) => ({ id, label: id.toUpperCase(), args: { fake } })),
  }, 'test');
}

const invocations = (dir: string) => readFileSync(join(dir, 'invocations.txt'), 'utf8').trim().split('\n');

test('trainArgs maps TrainConfig keys to the CLI flags', () => {
  assert.deepEqual(trainArgs({ depth: 56, maxTrain: 5000, budgetMinutes: 10, conv: 'scconv', augment: false, data: '/a b/c.tar.gz' }),
    ['--depth=56', '--max-train=5000', '--budget-minutes=10', '--conv=scconv', '--augment=false', '--data=/a b/c.tar.gz']);
});

test('planSweep: run folders per mode; budget args and overrides merge in order', () => {
  const s = sweep({ a: 'ok' });
  const [full] = planSweep(s, { runsDir: 'R' });
  assert.equal(full.runDir, join('R', 'fake', 'full', 'a'));
  assert.deepEqual(full.args, ['--epochs=3', '--fake=ok', `--out=${join('R', 'fake', 'full', 'a')}`]);
  const [b] = planSweep(s, { runsDir: 'R', budgetMinutes: 5, overrides: { maxTrain: 50 } });
  assert.equal(b.runDir, join('R', 'fake', 'budget-5min_maxTrain=50', 'a'));
  assert.deepEqual(b.settings, { epochs: 2, maxTrain: 50, fake: 'ok', budgetMinutes: 5, out: b.runDir });
  assert.throws(() => planSweep(s, { only: ['zz'] }), /--only row ids of fake \(a\), but received \["zz"\]/);
});

test('checkSweep names the file and the bad entry', () => {
  assert.throws(() => checkSweep({ name: 'x', title: 't', source: 's', rows: [] }, 'f.json'), /Sweep file f\.json expects a non-empty "rows" array, but received \[\]/);
  assert.throws(() => checkSweep({ name: 'x', title: 't', source: 's', rows: [{ id: 'a', label: 'A', args: {} }, { id: 'a', label: 'B', args: {} }] }, 'f.json'), /unique "id"/);
  assert.throws(() => checkSweep({ name: 'x', title: 't', source: 's', baseline: 'q', rows: [{ id: 'a', label: 'A', args: {} }] }, 'f.json'), /"baseline" to be one of the row ids \(a\)/);
});

test('a failed row is reported with its log tail and does not stop the others', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-sweep-'));
  const plans = planSweep(sweep({ good: 'ok', bad: 'fail', crash: 'crash-once', other: 'ok' }), { runsDir: runs });
  const lines: string[] = [];
  const out = await runSweep(plans, { jobs: 2, command: FAKE, log: (l) => lines.push(l) });
  assert.deepEqual(out.map((o) => o.status), ['done', 'failed', 'failed', 'done']);
  assert.match(out[1].logTail!, /loading data\nError: boom \(the fake trainer failed on purpose\)/);
  assert.equal(out[1].message, 'exited with code 1 without writing summary.json');
  assert.equal(out[2].message, 'exited with code 3 without writing summary.json');
  assert.ok(lines.some((l) => /\[2\/4\] fake\/full\/bad: FAILED \(exited with code 1/.test(l) && l.includes('Error: boom')), lines.join('\n'));
  assert.match(out[0].message, /3\/3 epochs, best test acc 50\.00% \(CIFAR-10 \(JPEG-75 copy\)\)/);
  const record = JSON.parse(readFileSync(join(plans[1].runDir, 'runner.json'), 'utf8'));
  assert.equal(record.message, 'exited with code 1 without writing summary.json');
  // The commit the row ran ('abc1234' or 'abc1234+dirty'; null only when the tests run outside a git checkout).
  assert.ok(record.code === null ? !existsSync(join(process.cwd(), '.git')) : /^[0-9a-f]{7,}(\+dirty)?$/.test(record.code), record.code);
  assert.equal(rowState(plans[0].runDir).state, 'finished');
  assert.equal(rowState(plans[2].runDir).state, 'resume');
});

test('a second invocation skips finished rows and resumes interrupted ones', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-sweep-'));
  const plans = planSweep(sweep({ good: 'ok', crash: 'crash-once' }), { runsDir: runs });
  const quiet = { command: FAKE, log: () => {} };
  await runSweep(plans, quiet);
  const second = await runSweep(plans, quiet);
  assert.deepEqual(second.map((o) => o.status), ['skipped', 'done']);
  assert.equal(second[1].resumed, true);
  assert.equal(invocations(plans[0].runDir).length, 1, 'the finished row did not run again');
  const crash = invocations(plans[1].runDir);
  assert.equal(crash.length, 2);
  assert.ok(!crash[0].includes('--resume') && crash[1].endsWith('--resume'));
  const epochs = readFileSync(join(plans[1].runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.deepEqual(epochs, [1, 1, 2]); // fake: 1 before the crash, then the rest (a real trainer truncates)
  assert.ok(readFileSync(join(plans[1].runDir, 'train.log'), 'utf8').includes('killed mid-run'));
});

test('a NaN row is reported as failed and not rerun; budget mode ends with status budget', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-sweep-'));
  const plans = planSweep(sweep({ n: 'nan', b: 'ok' }), { runsDir: runs, budgetMinutes: 1 });
  const quiet = { command: FAKE, log: () => {} };
  const first = await runSweep(plans, quiet);
  assert.deepEqual(first.map((o) => o.status), ['failed', 'budget']);
  assert.equal(first[0].message, 'stopped: loss became NaN at epoch 2');
  assert.ok(invocations(plans[1].runDir)[0].includes('--budget-minutes=1'));
  const second = await runSweep(plans, quiet);
  assert.deepEqual(second.map((o) => o.status), ['failed', 'skipped']);
  assert.match(second[0].message, /stopped earlier with status nan \(loss became NaN at epoch 2\); delete .* to run it again/);
  assert.equal(invocations(plans[0].runDir).length, 1);
});

test('a command that cannot start is a failed row, not a crash', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-sweep-'));
  const plans = planSweep(sweep({ a: 'ok' }), { runsDir: runs });
  const [o] = await runSweep(plans, { command: ['/nonexistent/trainer'], log: () => {} });
  assert.equal(o.status, 'failed');
  assert.equal(o.message, 'could not start');
  assert.match(o.logTail!, /cannot start \/nonexistent\/trainer/);
  assert.ok(existsSync(join(plans[0].runDir, 'train.log')));
});

test('a row whose runner.pid names a live process is left alone', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-sweep-'));
  const plans = planSweep(sweep({ a: 'ok' }), { runsDir: runs });
  mkdirSync(plans[0].runDir, { recursive: true });
  writeFileSync(join(plans[0].runDir, 'runner.pid'), `${process.pid}\n`);
  const [o] = await runSweep(plans, { command: FAKE, log: () => {} });
  assert.equal(o.status, 'running');
  assert.match(o.message, new RegExp(`already running in process ${process.pid}`));
  assert.ok(!existsSync(join(plans[0].runDir, 'invocations.txt')));
});

test('Ctrl-C on `npm run tables` reaches each row once; the rows checkpoint; the same command resumes', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'scconv-tables-'));
  mkdirSync(join(cwd, 'sweeps'));
  writeFileSync(join(cwd, 'sweeps', 'sig.json'), JSON.stringify({
    name: 'sig', title: 'Signals', source: 'tests', defaults: { epochs: 3 },
    rows: [{ id: 'slow', label: 'Slow', args: { fake: 'slow' } }, { id: 'later', label: 'Later', args: { fake: 'ok' } }],
  }));
  symlinkSync(join(process.cwd(), 'node_modules'), join(cwd, 'node_modules'));
  const cli = [join(process.cwd(), 'src', 'cli', 'tables.ts'), 'sig', '--command', FAKE.join(' ')];
  const run = () => spawn(process.execPath, ['--import', 'tsx', ...cli], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const runDir = join(cwd, 'runs', 'sig', 'full', 'slow');
  const first = run();
  let output = '';
  first.stdout.on('data', (d) => (output += d));
  first.stderr.on('data', (d) => (output += d));
  for (let i = 0; i < 1200 && !existsSync(join(runDir, 'started')); i++) await new Promise((r) => setTimeout(r, 50));
  first.kill('SIGINT');
  const code = await new Promise((r) => first.on('exit', r));
  assert.equal(code, 130, output);
  assert.equal(readFileSync(join(runDir, 'signals.txt'), 'utf8'), 'SIGINT\n');
  assert.match(output, /SIGINT: asking 1 running row\(s\) to checkpoint and stop/);
  assert.match(output, /interrupted after/);
  assert.ok(!existsSync(join(cwd, 'runs', 'sig', 'full', 'later')), 'no new row starts after Ctrl-C');

  const second = run();
  const code2 = await new Promise((r) => second.on('exit', r));
  assert.equal(code2, 0);
  assert.ok(invocations(runDir)[1].endsWith('--resume'));
  assert.equal(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).status, 'done');
  assert.ok(existsSync(join(cwd, 'reports', 'sig.md')));
});
