/**
 * The addon never trusts its caller: every entry, fed bad kinds, lengths and shapes, throws a JS
 * Error naming the entry and the bad value (code SCCONV_NATIVE), and never crashes. The calls run
 * in a child process (fixtures/addon_calls.ts), so a crash fails this test, naming the call,
 * instead of killing the runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { skip } from './helpers';

const CHILD = path.join('test', 'kernels', 'fixtures', 'addon_calls.ts');

interface Result { case: string; entry: string; valid: boolean; threw: boolean; code?: string; message: string }

test('every addon entry rejects bad kinds, lengths and shapes with an error naming them, and never crashes', { skip }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], { encoding: 'utf8' });
  const started = r.stderr.split('\n').filter((l) => l.startsWith('start ')).pop();
  assert.ok(r.status === 0 && r.signal === null,
    `the child exited with status ${r.status}, signal ${r.signal} during "${started?.slice(6)}":\n${r.stderr.slice(-2000)}`);
  const results: Result[] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const valid = results.filter((c) => c.valid), bad = results.filter((c) => !c.valid);
  assert.equal(valid.length, 24);
  assert.ok(bad.length > 200, `${bad.length} bad calls`);
  for (const c of valid) assert.ok(!c.threw, `${c.case} threw: ${c.message}`);
  for (const c of bad) {
    assert.ok(c.threw, `${c.case} did not throw`);
    assert.equal(c.code, 'SCCONV_NATIVE', `${c.case}: code ${c.code}, message ${c.message}`);
    assert.match(c.message, new RegExp(`^scconv_native\\.${c.entry}: .+\\.$`), c.case);
  }
  // The messages name the argument, what it expects and what it received.
  const message = (name: string) => results.find((c) => c.case === name)!.message;
  assert.equal(message('conv: argument 1 an Int32Array'),
    'scconv_native.conv: a (argument 1) expects a Float32Array, but received an Int32Array of length 32.');
  assert.equal(message('batchNorm: channels = 0'),
    'scconv_native.batchNorm: channels (argument 7) expects an integer ≥ 1, but received 0.');
  assert.equal(message('sgdMomentum: vOut longer than w'),
    'scconv_native.sgdMomentum: vOut expects 4 elements (the shape of w), but received an array of 5.');
  assert.equal(message('reduce: argument 1 one element short'),
    'scconv_native.reduce: x expects 24 elements (outer·mid·inner), but received an array of 23.');
  assert.match(message('conv: geometry oneDNN rejects (oh = 7 from h = 4)'),
    /^scconv_native\.conv: oneDNN rejected the convolution \(mode 0, n=1 h=4 w=4 c=2 o=3 kh=3 kw=3 oh=7 .*\): /);
  assert.equal(message('scconvInference: dims k = 2 (no centre tap)'),
    'scconv_native.scconvInference: dims.k expects an odd kernel size (\'same\' padding), but received 2.');
  assert.match(message('copyRows: src offset reading past src'), /src expects at least 12 elements .* received an array of 11\.$/);
});
