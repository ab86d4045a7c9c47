/**
 * Loads the optional native kernel pack (`native/`, an N-API addon built by node-gyp against
 * oneDNN). Returns null, with the reason, when it is not built or cannot load: every caller then
 * falls back to the stock tfjs backends.
 */
import * as fs from 'fs';
import * as path from 'path';
import { moduleFolder } from '../util/module_folder';

/**
 * The functions the addon exports (native/src/*.cc document each one). Every entry checks its
 * arguments' kinds and lengths and throws an Error with code SCCONV_NATIVE on a bad one.
 */
export interface NativeAddon {
  /** weightsId > 0 (forward only): the filter's contents never change under this id, keep it reordered. */
  conv(mode: number, a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array,
       bias?: Float32Array | null, act?: number, alpha?: number, weightsId?: number): void;
  convImpl(mode: number, params: Int32Array, hasBias: number, act: number): string;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, d0: number, d1: number, d2: number,
         a0: number, a1: number, a2: number, b0: number, b1: number, b2: number): void;
  copyRows(src: Float32Array, dst: Float32Array, rows: number, width: number, srcStride: number, srcOffset: number,
           dstStride: number, dstOffset: number): void;
  slice(x: Float32Array, out: Float32Array, shape: Int32Array, begin: Int32Array, size: Int32Array): void;
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, batchA: number, batchB: number, m: number, k: number,
         n: number, transposeA: number, transposeB: number): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  addN(out: Float32Array, ...xs: Float32Array[]): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  broadcast(x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  /** out[n,i,j,:] = scale·Σ of x's k×k block (i, j); out is [n, ⌊h/k⌋, ⌊w/k⌋, c]. */
  blockReduce(x: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, k: number, scale: number): void;
  /** out[n,y,z,:] = scale·x[n,⌊y/k⌋,⌊z/k⌋,:] inside the k·h × k·w corner of out [n, outH, outW, c], 0 outside. */
  blockSpread(x: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, k: number,
              outH: number, outW: number, scale: number): void;
  /** SCConv's SRU forward on x [n, hw, c]: y, and the GroupNorm mean and rstd [n, groups] (native/src/sru.cc). */
  sruForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array,
             rstd: Float32Array, n: number, hw: number, c: number, groups: number, threshold: number, hard: number,
             epsilon: number): void;
  /** Its gradient: dx, dγ, dβ from dy and the forward's mean and rstd. */
  sruBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array,
              rstd: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, n: number, hw: number,
              c: number, groups: number, threshold: number, hard: number): void;
  /** SCConv's CRU squeezes and PWC2: upS = x[:, :up]·w1, lowS = x[:, up:]·w2, y2p = lowS·pwc2 (native/src/cru.cc). */
  cruSqueeze(x: Float32Array, w1: Float32Array, w2: Float32Array, pwc2: Float32Array, upS: Float32Array,
             lowS: Float32Array, y2p: Float32Array, m: number, c: number, up: number, a: number, b: number): void;
  cruSqueezeGrad(dup: Float32Array, dlow: Float32Array, dy2p: Float32Array, x: Float32Array, w1: Float32Array,
                 w2: Float32Array, pwc2: Float32Array, lowS: Float32Array, dx: Float32Array, dw1: Float32Array,
                 dw2: Float32Array, dpwc2: Float32Array, m: number, c: number, up: number, a: number, b: number): void;
  /** CRU Eq. 7–9: y = β1·(y1 + bias) + β2·[pwc2 | low], beta [n, 2c] = [β1 | β2]; fusion 0 pairwise, 1 global (native/src/cru.cc). */
  cruFuse(y1: Float32Array, bias: Float32Array, pwc2: Float32Array, low: Float32Array, y: Float32Array,
          beta: Float32Array, n: number, p: number, c: number, l: number, fusion: number): void;
  /** cruFuse's gradients for y1, pwc2, low from dy and the β output's gradient dbeta. */
  cruFuseGrad(dy: Float32Array, dbeta: Float32Array, y1: Float32Array, bias: Float32Array, pwc2: Float32Array,
              low: Float32Array, beta: Float32Array, dy1: Float32Array, dbias: Float32Array, dpwc2: Float32Array,
              dlow: Float32Array, n: number, p: number, c: number, l: number, fusion: number): void;
  /**
   * SCConv's inference forward (SRU then CRU) one example at a time in cache (native/src/scconv.cc):
   * dims = [n, h, w, c, groups, hard, up, a, b, k, fusion], y [n, h, w, c].
   */
  scconvInference(x: Float32Array, gamma: Float32Array, beta: Float32Array, w1: Float32Array, w2: Float32Array,
                  pwc2: Float32Array, filter: Float32Array, bias: Float32Array, y: Float32Array, dims: Int32Array,
                  threshold: number, epsilon: number): void;
  /** SGD with momentum (native/src/sgd.cc): vOut = momentum·v + g + decay·w, wOut = w − lr·vOut. */
  sgdMomentum(w: Float32Array, v: Float32Array, g: Float32Array, wOut: Float32Array, vOut: Float32Array,
              lr: number, momentum: number, decay: number): void;
  sumProduct(a: Float32Array, b: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  batchNorm(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null,
            scale: Float32Array | null, epsilon: number, out: Float32Array, channels: number, act: number): void;
  batchNormGrad(dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array,
                scale: Float32Array | null, epsilon: number, channels: number, dx: Float32Array,
                dmean: Float32Array, dvariance: Float32Array, dscale: Float32Array, doffset: Float32Array,
                full: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** Keep freed multi-megabyte buffers in the heap for reuse (glibc mallopt); false where unsupported. */
  tuneMalloc(): boolean;
  version(): string;
}

/**
 * Every entry NativeAddon declares (the compiler checks the list is complete): an addon built from
 * older sources lacks the newer ones, and is refused at load with the fix instead of failing in
 * the middle of a run.
 */
const ENTRIES: Record<keyof NativeAddon, true> = {
  conv: true, convImpl: true, binary: true, copyRows: true, slice: true, matMul: true, unary: true, addN: true,
  reduce: true, broadcast: true, blockReduce: true, blockSpread: true, sruForward: true, sruBackward: true,
  cruSqueeze: true, cruSqueezeGrad: true, cruFuse: true, cruFuseGrad: true, scconvInference: true, sgdMomentum: true, sumProduct: true, batchNorm: true, batchNormGrad: true,
  setThreads: true, getThreads: true, tuneMalloc: true, version: true,
};

/** The entries of NativeAddon that `exports` lacks. */
export function missingEntries(exports: object): string[] {
  return Object.keys(ENTRIES).filter((name) => typeof (exports as Record<string, unknown>)[name] !== 'function');
}

/** Where the built addon lives, relative to the package root. */
export const ADDON_RELATIVE_PATH = path.join('native', 'build', 'Release', 'scconv_native.node');

let cached: { addon: NativeAddon | null; why: string } | undefined;

/** Candidate addon paths: $SCCONV_NATIVE_ADDON, next to this package, then up from the cwd. */
function candidates(): string[] {
  const out: string[] = [];
  if (process.env.SCCONV_NATIVE_ADDON) out.push(path.resolve(process.env.SCCONV_NATIVE_ADDON));
  const here = moduleFolder('native_addon');
  if (here) out.push(path.resolve(here, '..', '..', ADDON_RELATIVE_PATH));
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    out.push(path.join(dir, ADDON_RELATIVE_PATH));
    if (path.dirname(dir) === dir) break;
  }
  return [...new Set(out)];
}

/** The addon, or null and why not (never throws). `SCCONV_NATIVE=0` turns it off. */
export function loadNativeAddon(): { addon: NativeAddon | null; why: string } {
  if (cached) return cached;
  if (process.env.SCCONV_NATIVE === '0') {
    cached = { addon: null, why: 'the native kernel pack is turned off (SCCONV_NATIVE=0)' };
    return cached;
  }
  const file = candidates().find((f) => fs.existsSync(f));
  if (!file) {
    cached = { addon: null, why: `the native kernel pack is not built (no ${ADDON_RELATIVE_PATH}; run \`npm run build:native\`, which needs g++ and libdnnl-dev)` };
    return cached;
  }
  try {
    // OpenMP threads that wait by spinning (libgomp's default) collapse when the cores are shared:
    // measured here with other jobs running, a ResNet-20 step took 5.5 s spinning and 0.95 s with
    // passive waits. Unless the user chose, wait passively. libgomp reads this when it loads.
    if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
      process.env.OMP_WAIT_POLICY = 'passive';
    }
    const mod = { exports: {} as NativeAddon };
    process.dlopen(mod, file);
    const missing = missingEntries(mod.exports);
    cached = missing.length > 0
      ? { addon: null, why: `the native kernel pack at ${file} was built from older sources (it lacks ${missing.join(', ')}): run \`npm run build:native\`` }
      : { addon: mod.exports, why: `loaded ${file} (${mod.exports.version()})` };
  } catch (e) {
    cached = { addon: null, why: `the native kernel pack at ${file} failed to load: ${(e as Error).message}` };
  }
  return cached;
}
