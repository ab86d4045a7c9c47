import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng';

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextUint32());

test('same key → same stream; any key part changed → another stream', () => {
  assert.deepEqual(draw(new Rng(42, 3, 1), 8), draw(new Rng(42, 3, 1), 8));
  const a = draw(new Rng(42, 3, 1), 8);
  for (const other of [new Rng(42, 3, 0), new Rng(42, 4, 1), new Rng(43, 3, 1), new Rng(42 + 2 ** 32, 3, 1)]) {
    assert.notDeepEqual(draw(other, 8), a);
  }
});

test('state() / fromState() continue exactly where the generator was', () => {
  const r = new Rng(7);
  draw(r, 100);
  const saved = JSON.parse(JSON.stringify(r.state()));
  const expected = draw(r, 20);
  assert.deepEqual(draw(Rng.fromState(saved), 20), expected);
  assert.throws(() => Rng.fromState([1, 2, 3] as never), /Rng\.fromState expects four uint32 words/);
  assert.throws(() => new Rng(1.5), /Rng expects one or more integer keys/);
});

test('next() is uniform in [0, 1), int(n) covers 0..n-1, shuffle permutes', () => {
  const r = new Rng(1);
  const bins = new Array(10).fill(0);
  let lo = 1;
  let hi = 0;
  for (let i = 0; i < 100000; i++) {
    const u = r.next();
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
    bins[r.int(10)]++;
  }
  assert.ok(lo >= 0 && hi < 1 && lo < 1e-3 && hi > 1 - 1e-3);
  assert.ok(bins.every((b) => Math.abs(b - 10000) < 500), `bins ${bins}`);
  const items = Int32Array.from({ length: 50 }, (_, i) => i);
  r.shuffle(items);
  assert.notDeepEqual(Array.from(items), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(items).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
});
