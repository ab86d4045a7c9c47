/**
 * Kernel calls of one CRU forward + backward on the native backend, fused (the CRU kernels of
 * src/kernels/cru.ts) and composed (tfjs ops, as on every other backend): calls per kernel and the
 * full-size outputs written, in units of x's size (reshapes, identities and the fused conv's
 * custom-gradient wrapper share data and are left out). Counts, not times: docs/performance.md
 * ("CRU kernels") quotes them.
 *   node --import tsx scripts/count_cru_kernels.ts
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../src/kernels/native_addon';
import { registerNativeBackend } from '../src/kernels/native_backend';
import { CRU_FUSE, CRU_FUSIONS, type CRUFusion, cru, cruChannels, type CRUOptions } from '../src/layers/cru';

const SHARED = new Set(['Identity', 'Reshape', 'fusedConv2d__op']);

async function count(label: string, fusion: CRUFusion): Promise<void> {
  const o: CRUOptions = { alpha: 0.5, squeezeRatio: 2, groups: 2, kernelSize: 3, fusion };
  const shape: [number, number, number, number] = [4, 8, 8, 16];
  const p = cruChannels('count_cru_kernels', shape[3], o);
  const x = tf.randomUniform(shape);
  const weights = [[1, 1, p.up, p.upSqueezed], [1, 1, p.low, p.lowSqueezed], [3, 3, p.upSqueezed / o.groups, p.channels],
    [p.channels], [1, 1, p.upSqueezed, p.channels], [1, 1, p.lowSqueezed, p.channels - p.lowSqueezed]].map((s) => tf.randomUniform(s));
  const loss = (...t: tf.Tensor[]) => tf.sum(cru(t[0] as tf.Tensor4D, p,
    { squeeze1: t[1], squeeze2: t[2], gwcKernel: t[3], gwcBias: t[4], pwc1: t[5], pwc2: t[6] }, o));
  const info = await tf.profile(() => tf.grads(loss)([x, ...weights]));
  const rows = new Map<string, { calls: number; written: number }>();
  let written = 0;
  for (const k of info.kernels) {
    const size = SHARED.has(k.name) ? 0 : k.outputShapes.reduce((s, sh) => s + (sh ? tf.util.sizeFromShape(sh) : 0), 0) / x.size;
    const r = rows.get(k.name) ?? { calls: 0, written: 0 };
    r.calls++;
    r.written += size;
    rows.set(k.name, r);
    written += size;
  }
  console.log(`${label} ${fusion}: ${info.kernels.length} kernel calls, full-size outputs written ${written.toFixed(1)}× x ` +
    '(including 1× for the gradient of the loss sum)');
  console.log(`  ${[...rows.entries()].sort().map(([n, r]) => `${n} ${r.calls}${r.written >= 0.25 ? ` (${r.written.toFixed(2)}×)` : ''}`).join(', ')}`);
}

async function main(): Promise<void> {
  const loaded = loadNativeAddon();
  if (!loaded.addon) throw new Error(`count_cru_kernels expects the native addon: ${loaded.why}`);
  registerNativeBackend(loaded.addon, 2);
  tf.setBackend('native');
  for (const fusion of CRU_FUSIONS) await count('fused', fusion);
  tf.unregisterKernel(CRU_FUSE, 'native');  // the layer then composes tfjs ops
  for (const fusion of CRU_FUSIONS) await count('composed', fusion);
}

main().catch((e) => { console.error(e); process.exit(1); });
