/**
 * The run-folder lock: exclusive, names its holder, released on every exit path, and a lock left by
 * a dead process (same host) is taken over; one from another host is left alone.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ValueError } from '../../src/errors';
import { acquireRunLock } from '../../src/train/lock';
import { runDir } from './helpers';

const HOLDER = path.join('test', 'train', 'fixtures', 'lock_holder.ts');

function folder(): string {
  const dir = runDir();
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.equal(r.status, 0);
  return r.pid!;
}

test('one holder at a time: the second is told who holds it, since when, and what to do; release frees it', () => {
  const dir = folder();
  const lock = acquireRunLock(dir);
  const file = path.join(dir, 'lock');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { pid: process.pid, host: os.hostname(), since: lock.holder.since });
  assert.throws(() => acquireRunLock(dir), (e: Error) => e instanceof ValueError &&
    e.message.includes(`locked by pid ${process.pid} on ${os.hostname()} since ${lock.holder.since}`) &&
    e.message.includes(`stop it (kill ${process.pid}), or use another --out; if that trainer is gone, delete ${file}.`));
  lock.release();
  assert.ok(!fs.existsSync(file));
  lock.release(); // idempotent
  acquireRunLock(dir).release();
});

test('a lock whose pid no longer runs on this host is stale: removed, with a message', () => {
  const dir = folder();
  const pid = deadPid();
  fs.writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid, host: os.hostname(), since: '2020-01-01T00:00:00.000Z' }));
  const lines: string[] = [];
  const lock = acquireRunLock(dir, (l) => lines.push(l));
  assert.equal(lock.holder.pid, process.pid);
  assert.deepEqual(lines, [`removed the stale lock ${path.join(dir, 'lock')}: pid ${pid} (since 2020-01-01T00:00:00.000Z) no longer runs on ${os.hostname()}`]);
  assert.deepEqual(fs.readdirSync(dir), ['lock']); // nothing left aside
  lock.release();
});

test('a lock from another host is never taken over; an empty lock is taken only when old', () => {
  const dir = folder();
  const file = path.join(dir, 'lock');
  fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', since: '2020-01-01T00:00:00.000Z' }));
  assert.throws(() => acquireRunLock(dir), /locked by pid \d+ on elsewhere\.example since 2020-01-01T00:00:00\.000Z: .*stop it \(kill \d+ on elsewhere\.example\)/);
  assert.ok(fs.existsSync(file));

  fs.writeFileSync(file, ''); // a creator that died between creating and writing it, or one writing it now
  assert.throws(() => acquireRunLock(dir), /locked by a trainer that is starting/);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
  const lines: string[] = [];
  acquireRunLock(dir, (l) => lines.push(l)).release();
  assert.match(lines[0], /removed the stale lock .*: it holds no pid \(its creator died while writing it, 6\d s ago\)/);
});

test('another process holds the lock: refused; process.exit releases it; SIGKILL leaves a stale lock that is taken over', async () => {
  const dir = folder();
  const start = (mode: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const locked = new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes('locked') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, locked, exited };
  };
  const exiting = start('exit');
  assert.equal(await exiting.exited, 130);
  assert.ok(!fs.existsSync(path.join(dir, 'lock')), 'process.exit left the lock behind');

  const holder = start('hold');
  await holder.locked;
  assert.throws(() => acquireRunLock(dir), new RegExp(`locked by pid ${holder.child.pid} on `));
  holder.child.kill('SIGKILL');
  await holder.exited;
  const lines: string[] = [];
  acquireRunLock(dir, (l) => lines.push(l)).release();
  assert.match(lines[0], new RegExp(`pid ${holder.child.pid} .*no longer runs`));
});
