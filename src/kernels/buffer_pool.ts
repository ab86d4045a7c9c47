/**
 * The native backend's pool of freed float32 buffers, by length. A training step frees and
 * allocates gigabytes in multi-megabyte tensors; reusing the buffers saves the page faults and
 * external-memory garbage collections that fresh ones cost (measured at ~40% of a ResNet-20 step).
 *
 * The pool holds at most `limitBytes`. When a freed buffer does not fit, buffers of lengths
 * requested less recently than its own are dropped to make room, oldest first. Without that the
 * pool stayed full of whatever the first phase freed: SCConv-ResNet-56's training steps fill
 * 7.75 of its 8 GiB here, and the test pass after them (batch 500, other lengths) then allocated
 * every buffer afresh, at 60–80 instead of ~230 images/s, and slower epoch after epoch.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Every requested length, least recently requested first (a Map keeps insertion order). */
  private readonly recency = new Map<number, true>();
  private pooled = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.pooled;
  }

  /** A freed buffer of `length` elements (stale contents), or null when none is pooled. */
  take(length: number): Float32Array | null {
    this.recency.delete(length);
    this.recency.set(length, true);
    const reused = this.free.get(length)?.pop();
    if (!reused) return null;
    this.pooled -= reused.byteLength;
    return reused;
  }

  /** Keep `values` for reuse; false when it does not fit even after dropping older lengths. */
  give(values: Float32Array): boolean {
    if (!this.makeRoom(values)) return false;
    const list = this.free.get(values.length);
    if (list) list.push(values);
    else this.free.set(values.length, [values]);
    this.pooled += values.byteLength;
    return true;
  }

  /** Whether `values` fits, after dropping buffers of lengths requested less recently than its own. */
  private makeRoom(values: Float32Array): boolean {
    const fits = () => this.pooled + values.byteLength <= this.limitBytes;
    if (fits()) return true;
    if (values.byteLength > this.limitBytes) return false;
    for (const length of this.recency.keys()) {
      if (length === values.length) break; // the rest were requested more recently
      const list = this.free.get(length);
      while (list?.length && !fits()) this.pooled -= list.pop()!.byteLength;
      if (!list?.length) {
        this.free.delete(length);
        this.recency.delete(length); // nothing pooled and least recently used: forget it
      }
      if (fits()) return true;
    }
    return false;
  }
}
