/** The native backend's buffer pool: reuse by length, the byte cap, and least-recently-used eviction. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BufferPool } from '../../src/kernels/buffer_pool';

/** What a backend does: a pooled buffer when there is one, else a fresh one. */
const alloc = (pool: BufferPool, length: number) => pool.take(length) ?? new Float32Array(length);

test('a freed buffer comes back for the same length, and only for it', () => {
  const pool = new BufferPool(1 << 20);
  const a = alloc(pool, 100);
  assert.equal(pool.give(a), true);
  assert.equal(pool.bytes, 400);
  assert.equal(pool.take(50), null);
  assert.equal(pool.take(100), a);
  assert.equal(pool.bytes, 0);
  assert.equal(pool.take(100), null);
});

test('a phase with new lengths (a test pass after training) takes room from the lengths it no longer uses', () => {
  const pool = new BufferPool(4 * 400); // four buffers of 100 floats
  const training = [0, 1, 2, 3].map(() => alloc(pool, 100));
  training.forEach((b) => assert.equal(pool.give(b), true));
  assert.equal(pool.bytes, 1600); // full
  const evalBuffer = alloc(pool, 150); // a length training never asked for
  assert.equal(pool.give(evalBuffer), true, 'the recently requested length must displace the stale one');
  assert.ok(pool.bytes <= pool.limitBytes);
  assert.equal(pool.bytes, 2 * 400 + 600); // two 100s dropped for the 150
  assert.equal(pool.take(150), evalBuffer);
});

test('buffers of more recently requested lengths are never dropped for a staler one', () => {
  const pool = new BufferPool(2 * 400);
  const old = alloc(pool, 100);
  const recent = [alloc(pool, 200)];
  assert.equal(pool.give(recent[0]), true); // 800 bytes: full
  assert.equal(pool.give(old), false, '100 was requested before 200, so it must not evict it');
  assert.equal(pool.bytes, 800);
  assert.equal(pool.take(200), recent[0]);
});

test('a buffer larger than the whole cap is refused and leaves the pool as it was', () => {
  const pool = new BufferPool(1000);
  const small = alloc(pool, 10);
  pool.give(small);
  const huge = alloc(pool, 1000);
  assert.equal(pool.give(huge), false);
  assert.equal(pool.bytes, 40);
  assert.equal(pool.take(10), small);
});
