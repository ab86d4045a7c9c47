import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, formatBytes, formatCount, formatDuration } from '../../src/util/progress';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 200, write: (s: string) => writes.push(s) } };
}

test('formatters', () => {
  assert.equal(formatCount(12), '12');
  assert.equal(formatCount(1234), '1.2k');
  assert.equal(formatCount(25000), '25k');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(170052171), '162.2 MiB');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(187), '3:07');
  assert.equal(formatDuration(3723), '1:02:03');
});

test('plain (non-TTY) output is sparse: one line per 10% and a final line', () => {
  let t = 0;
  const { writes, stream } = fakeStream(false);
  const bar = new ProgressBar({ total: 1000, label: 'epoch 1', unit: 'img', stream, now: () => t });
  for (let i = 0; i < 1000; i++) {
    t += 10; // 100 img/s
    bar.tick(1);
  }
  bar.finish();
  assert.equal(writes.length, 10); // 10%..90% and the final line
  assert.ok(writes.every((w) => w.endsWith('\n') && !w.includes('\r')));
  assert.match(writes[0], /^epoch 1\s+10% 100\/1.0k 100 img\/s ETA 9s\n$/);
  assert.match(writes[9], /100% 1.0k\/1.0k 100 img\/s in 10s/);
});

test('TTY output redraws one line in place, throttled, with bar, rate and ETA', () => {
  let t = 0;
  const { writes, stream } = fakeStream(true);
  const bar = new ProgressBar({ total: 200, unit: 'img', stream, now: () => t, redrawMs: 100 });
  for (let i = 0; i < 100; i++) {
    t += 5; // 200 img/s
    bar.tick(1, 'loss 2.30');
  }
  // 500 ms elapsed, redraws at most every 100 ms.
  assert.ok(writes.length >= 4 && writes.length <= 6, `redraws: ${writes.length}`);
  assert.ok(writes.every((w) => w.startsWith('\r')));
  t += 100; // the first update (1 img at 5 ms) starts the rate clock: 99 img in 0.595 s
  bar.update(100, 'loss 2.30');
  assert.equal(writes[writes.length - 1], '\r 50% |██████████░░░░░░░░░░| 100/200 166 img/s ETA 1s loss 2.30');
  bar.finish();
  assert.equal(writes[writes.length - 1], '\n');
});

test('unknown total shows amount and rate only; bytes format', () => {
  let t = 0;
  const { writes, stream } = fakeStream(false);
  const bar = new ProgressBar({ total: 0, format: 'bytes', stream, now: () => t });
  t = 2000;
  bar.update(4 * 1024 * 1024);
  assert.equal(writes.length, 0);
  bar.finish();
  assert.equal(writes[0], '4.0 MiB 2.0 MiB/s in 2s\n');
});

test('a bar made on the first progress event does not count that work in its rate', () => {
  let t = 1000;
  const { writes, stream } = fakeStream(false);
  let bar: ProgressBar | null = null;
  for (let seen = 128; seen <= 512; seen += 128) {
    bar ??= new ProgressBar({ total: 512, unit: 'img', stream, now: () => t });
    bar.update(seen);
    t += 8000; // 16 img/s
  }
  t -= 8000;
  bar!.finish();
  assert.equal(writes[0], ' 25% 128/512 ? img/s\n'); // nothing measurable yet: no rate, no ETA
  assert.match(writes[1], /^ 50% 256\/512 16 img\/s ETA 16s\n$/);
  assert.match(writes[writes.length - 1], /100% 512\/512 16 img\/s in 24s/);
});
