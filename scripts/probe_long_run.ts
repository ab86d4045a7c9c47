/**
 * Does a long training run keep its speed? Trains with the real `train()` loop (short epochs, a test
 * pass after each) and prints, every `--every` steps: step time, garbage-collection time and count
 * (major/minor) in that window, heap/external/RSS memory, the native buffer pool and live tensors.
 *
 *   node --expose-gc --import tsx scripts/probe_long_run.ts --depth 20 --conv scconv --epochs 8 \
 *     --max-train 7680 --max-test 5000 [--pool-mb 1500] [--every 20]
 *
 * The drift it was written for: SCConv-ResNet-56 fell from ~70 to ~46 images/s over 10 epochs,
 * with full collections after each test pass that grew epoch after epoch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { parseTrainArgs } from '../src/train/args';
import { train } from '../src/train/train';

const argv = process.argv.slice(2);
const take = (flag: string, fallback: number) => {
  const i = argv.indexOf(flag);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const every = take('--every', 20);
const poolMb = take('--pool-mb', 0);
if (poolMb > 0) process.env.SCCONV_POOL_MB = String(poolMb);

const gc = { majorMs: 0, major: 0, minorMs: 0, minor: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) { gc.major++; gc.majorMs += e.duration; }
    else { gc.minor++; gc.minorMs += e.duration; }
  }
}).observe({ entryTypes: ['gc'] });

const { config } = parseTrainArgs(argv);
const out = config.out || fs.mkdtempSync(path.join(os.tmpdir(), 'probe-'));
await initBackend({ backend: config.backend || undefined });
const mb = (b: number) => Math.round(b / 2 ** 20);
let windowStart = Date.now();
let cpuStart = process.cpuUsage();
const line = (o: object) => console.log(JSON.stringify(o));
await train({ ...config, out }, {
  onStep: (s) => {
    if (s.step % every !== 0 && s.step !== s.steps) return;
    const m = process.memoryUsage();
    const pool = (tf.backend() as unknown as { pool?: { bytes: number } }).pool;
    const now = Date.now();
    const cpu = process.cpuUsage(cpuStart);
    cpuStart = process.cpuUsage();
    line({ epoch: s.epoch + 1, step: s.step, msPerStep: Math.round((now - windowStart) / (s.step % every || every)),
      cpuMsPerStep: Math.round((cpu.user + cpu.system) / 1000 / (s.step % every || every)),
      gcMajor: gc.major, gcMajorMs: Math.round(gc.majorMs), gcMinor: gc.minor, gcMinorMs: Math.round(gc.minorMs),
      heapMB: mb(m.heapUsed), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers), rssMB: mb(m.rss),
      poolMB: pool ? mb(pool.bytes) : null, tensors: tf.memory().numTensors });
    Object.assign(gc, { majorMs: 0, major: 0, minorMs: 0, minor: 0 });
    windowStart = now;
  },
  onEpoch: (r) => { line({ epoch: r.epoch, testAcc: r.testAcc, imagesPerSec: +r.imagesPerSec.toFixed(1), epochSeconds: +r.epochSeconds.toFixed(1) }); windowStart = Date.now(); cpuStart = process.cpuUsage(); },
  log: (l) => console.error(l),
});
