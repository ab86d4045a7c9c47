/**
 * Test helpers: run the same function on the stock `cpu` backend and on `native`, and compare
 * values (and gradients) elementwise; the backends a backend-parameterised test runs on; and the
 * fallback guard: in every test file that imports this one, each test fails when a native kernel
 * fell back to cpu without the test declaring it (expectFallback) or when the addon failed.
 */
import * as assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../../src/kernels/native_addon';
import { NATIVE_BACKEND_NAME, registerNativeBackend } from '../../src/kernels/native_backend';
import { nativeFallbacks, resetNativeFallbacks } from '../../src/kernels/native_util';

const loaded = loadNativeAddon();
/** false when the addon is available, else the reason the native tests are skipped. */
export const skip: false | string = loaded.addon ? false : loaded.why;
if (loaded.addon) registerNativeBackend(loaded.addon, 2);

/** The backends a parameterised test runs on: cpu, and native (skipped, with why, when not built). */
export const TEST_BACKENDS: { name: string; skip: false | string }[] = [
  { name: 'cpu', skip: false },
  { name: NATIVE_BACKEND_NAME, skip },
];

/**
 * Native kernels any test may see fall back to cpu, with why that is fine. Everything else must be
 * declared by the test that exercises it (expectFallback).
 */
export const ALWAYS_ALLOWED_FALLBACKS: Record<string, string> = {};

let expected = new Set<string>();

/** Declare that this test exercises the cpu fallback of `kernel`: it must happen at least once. */
export function expectFallback(kernel: string): void {
  expected.add(kernel);
}

/**
 * The problems in `counts` (nativeFallbacks()): an addon failure, a fallback neither always allowed
 * nor `expect`ed, or an `expect`ed fallback that did not happen. Empty when all is well.
 */
export function fallbackProblems(counts: ReturnType<typeof nativeFallbacks>, expect: Set<string>): string[] {
  const problems: string[] = [];
  for (const [kernel, c] of Object.entries(counts)) {
    if (c.failures > 0) problems.push(`${kernel}: the addon failed ${c.failures}× (e.g. ${c.examples[0]})`);
    if (c.fallbacks > 0 && !expect.has(kernel) && !(kernel in ALWAYS_ALLOWED_FALLBACKS)) {
      problems.push(`${kernel}: ran the cpu kernel ${c.fallbacks}× instead of the native one (e.g. ${c.examples.join('; ')})`);
    }
  }
  for (const kernel of expect) {
    if (!(counts[kernel]?.fallbacks > 0)) problems.push(`${kernel}: the test expects a cpu fallback, but none happened`);
  }
  return problems;
}

if (!skip) {
  beforeEach(() => {
    resetNativeFallbacks();
    expected = new Set();
  });
  afterEach(() => {
    const problems = fallbackProblems(nativeFallbacks(), expected);
    assert.ok(problems.length === 0, `native fallback guard (test/kernels/helpers.ts):\n  ${problems.join('\n  ')}`);
  });
}

/** Deterministic values in [lo, hi) (mulberry32). */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export interface InputSpec { shape: number[]; lo?: number; hi?: number }

/** Run `f` on `backend` with fresh tensors built from `specs`; returns plain arrays. */
function runOn(backend: string, specs: InputSpec[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = specs.map((s, i) => tf.tensor(randomValues(tf.util.sizeFromShape(s.shape), 1000 + i, s.lo, s.hi), s.shape));
    const out = f(...xs);
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
  });
}

export function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i], a = actual[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}: element ${i} is ${a} on native but ${e} on cpu (tolerance ${tol})`);
    }
  }
}

/** f on native equals f on cpu, output by output. */
export function sameAsCpu(what: string, specs: InputSpec[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], tol = 1e-4): void {
  const expected = runOn('cpu', specs, f);
  const actual = runOn(NATIVE_BACKEND_NAME, specs, f);
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assertClose(a, expected[i], tol, `${what} output ${i}`));
}

/** Values and the gradients of sum(f(xs) * w) with respect to every input agree with cpu. */
export function gradsSameAsCpu(what: string, specs: InputSpec[], f: (...xs: tf.Tensor[]) => tf.Tensor, tol = 1e-4): void {
  sameAsCpu(what, specs, f, tol);
  sameAsCpu(`${what} gradients`, specs, (...xs) => {
    const y = f(...xs);
    // A fixed non-uniform upstream gradient, so every position of dy matters.
    const w = tf.tensor(randomValues(y.size, 7), y.shape);
    return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs);
  }, tol);
}

export { NATIVE_BACKEND_NAME };
