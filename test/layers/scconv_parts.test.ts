/**
 * SCConv `parts`: the ablation variants of the paper's Table 1 pattern ('sru-cru' = SCConv, 'sru',
 * 'cru', 'cru-sru', 'parallel'). Each is checked against the same units composed by hand with
 * standalone SRU / CRU layers holding the same weights; params and MACs against the parts' sums.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { countFlops, countParams, createResNet, CRU, SCConv, SCCONV_PARTS, SRU, ValueError } from '../../src/index';
import type { SCConvParts } from '../../src/index';
import { parseTrainArgs } from '../../src/train/args';
import { modelComplexity } from '../../src/experiments/complexity';
import { loadSweep, planSweep } from '../../src/experiments/sweep';
import { resolveConfig } from '../../src/train/config';
import { betaMeans } from '../../src/train/monitor';

const C = 16;
const x = tf.randomNormal([2, 6, 6, C], 0, 1, 'float32', 7) as tf.Tensor4D;
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** A built SCConv variant with non-initial GroupNorm γ/β and GWC bias, so every path matters. */
function variant(parts: SCConvParts, args: {filters?: number, strides?: number} = {}): SCConv {
  const layer = new SCConv({parts, ...args});
  layer.build(x.shape);
  layer.weights.forEach((w, i) => {
    if (w.shape.length === 1) w.write(tf.randomUniform(w.shape as number[], 0.2, 1.5, 'float32', 10 + i));
  });
  return layer;
}

/** Standalone SRU / CRU carrying the variant's weights: the "by hand" reference. */
function standalone(layer: SCConv): {sru: (t: tf.Tensor4D) => tf.Tensor4D, cru: (t: tf.Tensor4D) => tf.Tensor4D} {
  const sru = new SRU();
  const cru = new CRU();
  sru.build(x.shape);
  cru.build(x.shape);
  if (layer.sruLayer) sru.setWeights(layer.sru.getWeights());
  if (layer.cruLayer) cru.setWeights(layer.cru.getWeights());
  return {sru: (t) => sru.apply(t) as tf.Tensor4D, cru: (t) => cru.apply(t) as tf.Tensor4D};
}

describe('SCConv parts: outputs', () => {
  for (const parts of SCCONV_PARTS) {
    it(`'${parts}' maps [2, 6, 6, 16] to [2, 6, 6, 16], and through the adapter to [2, 3, 3, 32]`, () => {
      assert.deepEqual((variant(parts).apply(x) as tf.Tensor).shape, [2, 6, 6, C]);
      const adapted = variant(parts, {filters: 32, strides: 2});
      assert.deepEqual((adapted.apply(x) as tf.Tensor).shape, [2, 3, 3, 32]);
      assert.deepEqual(adapted.computeOutputShape([null, 6, 6, C]), [null, 3, 3, 32]);
    });
  }

  it("'sru-cru' is the default SCConv, exactly, with the same weights", () => {
    const plain = new SCConv();
    plain.build(x.shape);
    const layer = variant('sru-cru');
    plain.setWeights(layer.getWeights());
    assert.equal(plain.parts, 'sru-cru');
    const {sru, cru} = standalone(layer);
    const y = layer.apply(x) as tf.Tensor;
    assert.deepEqual(Array.from(y.dataSync()), Array.from((plain.apply(x) as tf.Tensor).dataSync()));
    assert.deepEqual(Array.from(y.dataSync()), Array.from(cru(sru(x)).dataSync()));
  });

  it("'cru-sru' = SRU(CRU(x)), 'parallel' = SRU(x) + CRU(x), 'cru' = CRU(x)", () => {
    for (const [parts, want] of [
      ['cru-sru', (h: ReturnType<typeof standalone>) => h.sru(h.cru(x))],
      ['parallel', (h: ReturnType<typeof standalone>) => tf.add(h.sru(x), h.cru(x))],
      ['cru', (h: ReturnType<typeof standalone>) => h.cru(x)],
    ] as const) {
      const layer = variant(parts);
      assert.equal(layer.sruLayer === null, parts === 'cru');
      const d = maxDiff(layer.apply(x) as tf.Tensor, want(standalone(layer)));
      assert.ok(d < 1e-5, `${parts}: max |diff| ${d}`);
    }
  });

  it("'sru' = a bias-free 3×3 conv of SRU(x); with the adapter the conv itself maps C → filters, strided", () => {
    for (const [filters, strides] of [[C, 1], [32, 2]]) {
      const layer = variant('sru', {filters, strides});
      assert.equal(layer.cruLayer, null);
      assert.equal(layer.projection, undefined);
      assert.deepEqual(layer.convKernel!.shape, [3, 3, C, filters]);
      assert.deepEqual(layer.weights.filter((w) => /bias/.test(w.name)), []);
      const want = tf.conv2d(standalone(layer).sru(x), layer.convKernel!.read() as tf.Tensor4D, strides as 1 | 2, 'same');
      assert.ok(maxDiff(layer.apply(x) as tf.Tensor, want) < 1e-5);
    }
  });

  it('every trainable weight of every variant gets a finite, non-zero gradient', () => {
    for (const parts of SCCONV_PARTS) {
      const layer = variant(parts, {filters: 32, strides: 2});
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const {grads} = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar, vars);
      for (const v of vars) {
        const g = grads[v.name];
        assert.ok(g && g.isFinite().all().dataSync()[0] === 1 && tf.max(tf.abs(g)).dataSync()[0] > 0, `${parts}: ${v.name}`);
      }
    }
  });
});

describe('SCConv parts: gates, betas, errors', () => {
  it('gates are those of the SRU on its own input; betas those of the CRU on its own input', () => {
    for (const parts of ['sru-cru', 'cru-sru', 'parallel', 'sru'] as const) {
      const layer = variant(parts);
      const h = standalone(layer);
      const sruInput = parts === 'cru-sru' ? h.cru(x) : x;
      assert.ok(maxDiff(layer.gates(x).W1, layer.sru.gates(sruInput).W1) < 1e-6, parts);
    }
    for (const parts of ['sru-cru', 'cru-sru', 'parallel', 'cru'] as const) {
      const layer = variant(parts);
      const cruInput = parts === 'sru-cru' ? standalone(layer).sru(x) : x;
      assert.ok(maxDiff(layer.betas(x).beta1, layer.cru.betas(cruInput).beta1) < 1e-6, parts);
    }
  });

  it('a variant without the unit says so', () => {
    assert.throws(() => variant('cru').gates(x), (e: Error) => e instanceof ValueError &&
      /SCConv \S+ has parts 'cru', which has no SRU; use parts 'sru-cru', 'sru', 'cru-sru', 'parallel'\./.test(e.message));
    assert.throws(() => variant('sru').betas(x), /has parts 'sru', which has no CRU; use parts 'sru-cru', 'cru', 'cru-sru', 'parallel'\./);
    assert.throws(() => new SCConv({parts: 'cru'}).sru, ValueError);
  });

  it('an unknown parts value is a ValueError listing the valid names', () => {
    assert.throws(() => new SCConv({parts: 'sru+cru' as SCConvParts}), (e: Error) => e instanceof ValueError &&
      e.message === `SCConv expects parts to be one of 'sru-cru', 'sru', 'cru', 'cru-sru', 'parallel', but received "sru+cru".`);
  });

  it('channel checks cover only the units present', () => {
    // 6 channels: fine for SRU with groupNum 2; CRU (α = 0.5, r = 2) squeezes 3 to 1 channel, which g = 2 cannot split.
    assert.doesNotThrow(() => new SCConv({parts: 'sru', groupNum: 2}).checkInputChannels(6));
    assert.throws(() => new SCConv({parts: 'sru-cru', groupNum: 2}).checkInputChannels(6), /CRU expects input channels divisible by groups=2/);
  });
});

describe('SCConv parts: serialization', () => {
  it('every variant saves and reloads with its parts and identical outputs', async () => {
    for (const parts of SCCONV_PARTS) {
      const input = tf.input({shape: [6, 6, C]});
      const out = new SCConv({parts, filters: 32, strides: 2, gate: 'hard', alpha: 0.25}).apply(input) as tf.SymbolicTensor;
      const model = tf.model({inputs: input, outputs: out});
      for (const w of model.weights) if (w.shape.length === 1) w.write(tf.randomUniform(w.shape as number[], 0.2, 1.5, 'float32', 3));
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
      }));
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      const layer = loaded.layers[1] as SCConv;
      assert.equal(layer.parts, parts);
      assert.deepEqual([layer.getConfig().gate, layer.getConfig().alpha, layer.getConfig().filters], ['hard', 0.25, 32]);
      assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()), parts);
    }
  });
});

describe('SCConv parts: parameters and MACs', () => {
  // C = 16, α = 1/2, r = 2, g = 2, k = 3: CRU = squeezes 8·4 + 8·4, GWC 9·2·16 + 16 bias, PWC1 4·16,
  // PWC2 4·12 = 480 weights and (per pixel) 464 MACs; SRU = GroupNorm γ, β = 32 weights, no MACs.
  const sruParams = 2 * C;
  const cruParams = 32 + 32 + 288 + 16 + 64 + 48;
  const cruMacsPerPixel = 32 + 32 + 288 + 64 + 48;
  const pixels = 36;
  const cases: [SCConvParts, number, number, number, number][] = [
    // parts, params, MACs at 16 → 16 stride 1, params, MACs at 16 → 32 stride 2 (adapter: 16·32 weights, 9·16·32 MACs)
    ['sru-cru', sruParams + cruParams, cruMacsPerPixel * pixels, sruParams + cruParams + 512, cruMacsPerPixel * pixels + 9 * 512],
    ['sru', sruParams + 9 * C * C, pixels * 9 * C * C, sruParams + 9 * C * 32, 9 * 9 * C * 32],
    ['cru', cruParams, cruMacsPerPixel * pixels, cruParams + 512, cruMacsPerPixel * pixels + 9 * 512],
    ['cru-sru', sruParams + cruParams, cruMacsPerPixel * pixels, sruParams + cruParams + 512, cruMacsPerPixel * pixels + 9 * 512],
    ['parallel', sruParams + cruParams, cruMacsPerPixel * pixels, sruParams + cruParams + 512, cruMacsPerPixel * pixels + 9 * 512],
  ];
  for (const [parts, params, macs, adaptedParams, adaptedMacs] of cases) {
    it(`'${parts}': ${params} params, ${macs} MACs; adapted ${adaptedParams}, ${adaptedMacs}`, () => {
      assert.equal(variant(parts).countParams(), params);
      assert.equal(variant(parts).macs([1, 6, 6, C]), macs);
      const adapted = variant(parts, {filters: 32, strides: 2});
      assert.equal(adapted.countParams(), adaptedParams);
      assert.equal(adapted.macs([1, 6, 6, C]), adaptedMacs);
      // countFlops reaches the layer's own count.
      const input = tf.input({shape: [6, 6, C]});
      const model = tf.model({inputs: input, outputs: new SCConv({parts, filters: 32, strides: 2}).apply(input) as tf.SymbolicTensor});
      assert.deepEqual([countParams(model), countFlops(model, [6, 6, C])], [adaptedParams, adaptedMacs]);
    });
  }
  it('the standalone SRU and CRU layers agree with the hand counts', () => {
    const [sru, cru] = [new SRU(), new CRU()];
    [sru, cru].forEach((l) => l.build(x.shape));
    assert.deepEqual([sru.countParams(), cru.countParams(), cru.macs([1, 6, 6, C])], [sruParams, cruParams, cruMacsPerPixel * pixels]);
  });
});

describe('SCConv parts in a ResNet and the trainer', () => {
  const complexity = (conv: 'standard' | 'scconv', parts?: SCConvParts) => {
    const m = createResNet({depth: 8, conv, scconv: parts && {parts}});
    const r = [countParams(m), countFlops(m, [32, 32, 3])];
    m.dispose();
    return r;
  };

  it("createResNet: 'sru' = standard + 2C per replaced conv; 'cru' = SCConv − 2C; 'cru-sru', 'parallel' = SCConv", () => {
    const srus = 2 * (16 + 32 + 64); // one replaced conv per stage at depth 8
    const [std, scc] = [complexity('standard'), complexity('scconv')];
    assert.deepEqual(complexity('scconv', 'sru'), [std[0] + srus, std[1]]);
    assert.deepEqual(complexity('scconv', 'cru'), [scc[0] - srus, scc[1]]);
    assert.deepEqual(complexity('scconv', 'cru-sru'), scc);
    assert.deepEqual(complexity('scconv', 'parallel'), scc);
  });

  it('β logging skips variants without a CRU', async () => {
    const probe = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    for (const [parts, count] of [['sru', 0], ['cru', 3]] as const) {
      const m = createResNet({depth: 8, width: 8, conv: 'scconv', scconv: {parts}});
      assert.equal(Object.keys(await betaMeans(m, probe)).length, count, parts);
      m.dispose();
    }
  });

  it('--scconv-parts parses to TrainConfig.scconvParts and names the default run folder (bad values: test/train/cli.test.ts)', () => {
    assert.equal(resolveConfig(parseTrainArgs([]).config).scconvParts, 'sru-cru');
    const c = resolveConfig(parseTrainArgs(['--scconv-parts', 'cru-sru']).config);
    assert.deepEqual([c.scconvParts, c.out], ['cru-sru', 'runs/resnet20_scconv-cru-sru_seed0']);
    assert.equal(resolveConfig({}).out, 'runs/resnet20_scconv_seed0');
  });

  it('`npm run tables -- ablation --print` prints commands the train CLI accepts, one per variant', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'ablation-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/tables.ts', 'ablation', '--print', '--budget-minutes', '20', '--runs', runs],
      {encoding: 'utf8'});
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const plans = planSweep(loadSweep('ablation'), {budgetMinutes: 20, runsDir: runs});
    assert.equal(lines.length, plans.length);
    const seen: string[] = [];
    lines.forEach((line, i) => {
      const words = line.split(' ');
      assert.deepEqual(words.slice(0, 4), ['npm', 'run', 'train', '--'], line);
      const c = resolveConfig(parseTrainArgs(words.slice(4)).config);
      assert.equal(c.out, plans[i].runDir);
      assert.equal(c.budgetMinutes, 20);
      seen.push(c.conv === 'standard' ? 'standard' : c.scconvParts);
    });
    assert.deepEqual(seen, ['standard', 'sru', 'cru', 'sru-cru', 'cru-sru', 'parallel']);
    // The report's params/FLOPs for every row (built from the same flags) exist and tell the variants apart.
    const counts = await Promise.all(plans.map((p) => modelComplexity(p.settings)));
    assert.ok(counts.every((n) => n !== null));
    assert.equal(new Set(counts.map((n) => n!.params)).size, 4); // sru-cru, cru-sru and parallel share a count
  });
});
