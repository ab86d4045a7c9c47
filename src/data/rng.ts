/**
 * A small, fast, seedable random number generator: sfc32 (Doty-Humphrey's "small fast counting"
 * generator, 128-bit state, passes PractRand), seeded through splitmix32.
 *
 * `new Rng(seed, epoch, stream)` gives an independent stream for every key, so anything drawn
 * from it (shuffle order, crops, flips) depends only on that key: a resumed run replays exactly.
 * The whole state is four uint32s: `state()` / `Rng.fromState()` save and restore it (checkpoints).
 */
import { expect } from '../errors';

/** The four 32-bit words of an sfc32 generator, JSON-safe. */
export type RngState = [number, number, number, number];

/** splitmix32 finaliser: a well-mixed 32-bit hash of `x`. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * A generator keyed by integers, e.g. `new Rng(seed, epoch, 1)`. Different keys give unrelated
   * streams; the same key always gives the same stream.
   */
  constructor(...key: number[]) {
    expect(key.length > 0 && key.every((k) => Number.isSafeInteger(k)), 'Rng', 'one or more integer keys (seed, epoch, ...)', key);
    let h = 0x2545f491;
    for (const k of key) {
      // Fold in the low and high 32 bits so seeds above 2^32 still differ.
      h = mix32(h ^ (k >>> 0));
      h = mix32(h ^ Math.floor(k / 0x100000000));
    }
    this.a = mix32(h);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32(); // warm-up recommended for sfc32
  }

  /** Restore a generator saved with `state()`. */
  static fromState(state: RngState): Rng {
    expect(
      Array.isArray(state) && state.length === 4 && state.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32),
      'Rng.fromState',
      'four uint32 words from Rng#state()',
      state,
    );
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = state;
    return rng;
  }

  /** The current state (four uint32 words); `Rng.fromState` continues from exactly here. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n), for 0 < n <= 2^32 (bias below n / 2^32). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffle `items` in place (Fisher-Yates) and return it. */
  shuffle<T extends { length: number; [i: number]: any }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
