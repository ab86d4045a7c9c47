/** initBackend: the override, the fallback chain and its report. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES, initBackend } from '../../src/backend';
import { ValueError } from '../../src/errors';
import { loadNativeAddon } from '../../src/kernels/native_addon';

const native = loadNativeAddon();

test('SCCONV_BACKEND picks the backend and says so', async () => {
  const r = await initBackend({ backend: 'cpu', log: null });
  assert.equal(r.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(r.reason, /SCCONV_BACKEND=cpu/);
});

test('an unknown backend name is a ValueError that lists the valid ones', async () => {
  await assert.rejects(initBackend({ backend: 'tpu', log: null }), (e: Error) =>
    e instanceof ValueError && e.message.includes('"tpu"') && BACKEND_CHOICES.every((c) => e.message.includes(c)));
});

test('without an override it takes the fastest working backend and explains each one it skipped', async () => {
  const lines: string[] = [];
  const r = await initBackend({ log: (l) => lines.push(l) });
  assert.equal(lines.length, 1);
  assert.match(lines[0], new RegExp(`^backend: ${r.name}: `));
  const skipped = r.skipped.map((s) => s.name);
  // This machine has no CUDA GPU and no tfjs-node, so those are skipped, each with a reason.
  for (const s of r.skipped) assert.ok(s.why.length > 10, `${s.name}: ${s.why}`);
  if (native.addon && !skipped.includes('webgpu')) {
    // (On a GPU machine with Dawn, WebGPU would win and this branch would not run.)
    assert.equal(r.name, 'native');
  }
  if (!native.addon) {
    assert.equal(r.name, 'cpu');
    assert.ok(r.skipped.some((s) => s.name === 'native' && s.why === native.why));
  }
  assert.equal(tf.getBackend(), r.name);
});

test('asking for the native backend fails clearly when the addon is not built, else activates it',
  async () => {
    if (native.addon) {
      const r = await initBackend({ backend: 'native', threads: 2, log: null });
      assert.equal(r.name, 'native');
      assert.match(r.reason, /oneDNN \d+\.\d+/);
    } else {
      await assert.rejects(initBackend({ backend: 'native', log: null }), /native kernel pack/);
    }
  });
