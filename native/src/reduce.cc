// Reductions over the middle axis of [outer, mid, inner] (Sum, Mean, Max, Min over one contiguous
// block of axes), the matching broadcast, and the fused Σ a·b. src/kernels/reduce.ts calls:
//
//   reduce(op, x, out, outer, mid, inner)     out[o, i] = reduce_m x[o, m, i] (op 0 sum, 1 mean, 2 max, 3 min)
//   broadcast(x, out, outer, mid, inner)      out[o, m, i] = x[o, i] (Tile / BroadcastTo of a 1-axis)
//   sumProduct(a, b, out, outer, mid, inner)  out[o, i] = Σ_m a[o, m, i]·b[o, m, i] — the gradient of
//                                             a broadcast multiply for the broadcast operand,
//                                             without materialising dy·x.

#include "fast_math.h"
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace scconv {
namespace {

enum ReduceOp { kSum, kMean, kRMax, kRMin, kReduceOps };

// outer, mid, inner with x [outer·mid·inner] and out [outer·inner] checked; mid ≥ min_mid.
struct Split {
  int64_t outer, mid, inner;
};
Split read_split(const Args& a, size_t i, int64_t min_mid) {
  Split s{a.integer(i, "outer", 0), a.integer(i + 1, "mid", min_mid), a.integer(i + 2, "inner", 0)};
  product(a, {s.outer, s.mid, s.inner}, "outer·mid·inner");
  return s;
}

}  // namespace

namespace {

// Adds Σ dy and Σ dy·(x − mean) over rows [r0, r1) of dy, x [rows, c] into b1, b2 [c]; templated on
// the width (SCCONV_ROW_WIDTHS, fast_math.h) and built per CPU: with the runtime-width loop of the
// baseline build, batchNormGrad took 0.31–0.40 ns per element where an Add takes 0.08–0.10
// (reports/bench/2026-12-01e-batch-norm-grad.txt).
template <int64_t kC>
SCCONV_INLINE void channel_sum_pixels(const float* __restrict dy, const float* __restrict x,
                                      const float* __restrict mean, int64_t r0, int64_t r1, int64_t c_now,
                                      float* __restrict b1, float* __restrict b2) {
  const int64_t c = kC ? kC : c_now;
  for (int64_t r = r0; r < r1; ++r) {
    const float *g = dy + r * c, *xr = x + r * c;
#pragma omp simd
    for (int64_t i = 0; i < c; ++i) {
      b1[i] += g[i];
      b2[i] += g[i] * (xr[i] - mean[i]);
    }
  }
}

SCCONV_SIMD_CLONES
void channel_sum_rows(const float* dy, const float* x, const float* mean, int64_t r0, int64_t r1, int64_t c,
                      float* b1, float* b2) {
#define SCCONV_CALL(W) channel_sum_pixels<W>(dy, x, mean, r0, r1, c, b1, b2)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

}  // namespace

void channel_sums(const float* dy, const float* x, const float* mean, int64_t rows, int64_t c, double* s1,
                  double* s2) {
  const int threads = rows * c >= kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * 2 * c, 0.0);  // per thread: Σ dy | Σ dy·(x − mean)
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    std::vector<float> block(2 * c);
    blocked_sums(r0, r1, block.data(), 2 * c, partial.data() + static_cast<size_t>(t) * 2 * c,
                 [&](int64_t q0, int64_t q1, float* blk) { channel_sum_rows(dy, x, mean, q0, q1, c, blk, blk + c); });
  }
  for (int64_t i = 0; i < c; ++i) {
    s1[i] = s2[i] = 0;
    for (int t = 0; t < threads; ++t) { s1[i] += partial[(t * 2) * c + i]; s2[i] += partial[(t * 2 + 1) * c + i]; }
  }
}

napi_value reduce(napi_env env, const Args& a) {
  const int op = static_cast<int>(a.integer(0, "op", 0, kReduceOps - 1));
  Span<float> xs = a.f32(1, "x"), outs = a.f32(2, "out");
  // mid ≥ 1: a mean divides by it and max/min start from the first element.
  const Split split = read_split(a, 3, 1);
  const int64_t outer = split.outer, mid = split.mid, inner = split.inner;
  expect_length(a, xs, outer * mid * inner, "x", "outer·mid·inner");
  expect_length(a, outs, outer * inner, "out", "outer·inner");
  const float* x = xs.data;
  float* out = outs.data;
  const int64_t total = outer * mid * inner;
  const bool par = total >= kParallelMin;
  if (inner == 1) {
    // Reduce contiguous rows.
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; ++o) {
      const float* r = x + o * mid;
      if (op == kSum || op == kMean) {
        double s = 0;
        for (int64_t m = 0; m < mid; ++m) s += r[m];
        out[o] = static_cast<float>(op == kMean ? s / mid : s);
      } else {
        float v = r[0];
        for (int64_t m = 1; m < mid; ++m) v = op == kRMax ? (r[m] > v || std::isnan(r[m]) ? r[m] : v)
                                                        : (r[m] < v || std::isnan(r[m]) ? r[m] : v);
        out[o] = v;
      }
    }
    return undefined(env);
  }
  // Many independent outputs (e.g. NHWC over H, W per example): one thread per block of them.
  if (outer >= 2 * omp_get_max_threads()) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outer; ++o) {
      const float* base = x + o * mid * inner;
      float* dst = out + o * inner;
      if (op == kSum || op == kMean) {
        std::vector<double> acc(inner, 0.0);
        for (int64_t m = 0; m < mid; ++m)
          for (int64_t i = 0; i < inner; ++i) acc[i] += base[m * inner + i];
        for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<float>(op == kMean ? acc[i] / mid : acc[i]);
      } else {
        const bool is_max = op == kRMax;
        for (int64_t i = 0; i < inner; ++i) dst[i] = base[i];
        for (int64_t m = 1; m < mid; ++m)
          for (int64_t i = 0; i < inner; ++i) {
            const float v = base[m * inner + i];
            dst[i] = is_max ? (v > dst[i] || std::isnan(v) ? v : dst[i]) : (v < dst[i] || std::isnan(v) ? v : dst[i]);
          }
      }
    }
    return undefined(env);
  }
  // Few outputs over many rows (e.g. NHWC over N, H, W): split the rows between threads, each
  // keeps a partial row, then combine.
  const int threads = par ? omp_get_max_threads() : 1;
  for (int64_t o = 0; o < outer; ++o) {
    const float* base = x + o * mid * inner;
    std::vector<double> partial(static_cast<size_t>(threads) * inner);
    std::vector<float> partial_f(static_cast<size_t>(threads) * inner);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      const int t = omp_get_thread_num();
      const int nt = omp_get_num_threads();
      const int64_t m0 = mid * t / nt, m1 = mid * (t + 1) / nt;
      if (op == kSum || op == kMean) {
        // Accumulate in float over blocks of rows, in double across blocks.
        double* acc = partial.data() + static_cast<size_t>(t) * inner;
        std::vector<float> block(inner, 0.f);
        int64_t count = 0;
        for (int64_t m = m0; m < m1; ++m) {
          const float* r = base + m * inner;
          for (int64_t i = 0; i < inner; ++i) block[i] += r[i];
          if (++count == 64) {
            for (int64_t i = 0; i < inner; ++i) { acc[i] += block[i]; block[i] = 0.f; }
            count = 0;
          }
        }
        for (int64_t i = 0; i < inner; ++i) acc[i] += block[i];
      } else {
        float* acc = partial_f.data() + static_cast<size_t>(t) * inner;
        const bool is_max = op == kRMax;
        for (int64_t i = 0; i < inner; ++i) acc[i] = is_max ? -INFINITY : INFINITY;
        if (m1 > m0) {
          for (int64_t i = 0; i < inner; ++i) acc[i] = base[m0 * inner + i];
          for (int64_t m = m0 + 1; m < m1; ++m) {
            const float* r = base + m * inner;
            for (int64_t i = 0; i < inner; ++i)
              acc[i] = is_max ? (r[i] > acc[i] || std::isnan(r[i]) ? r[i] : acc[i])
                              : (r[i] < acc[i] || std::isnan(r[i]) ? r[i] : acc[i]);
          }
        }
      }
    }
    float* dst = out + o * inner;
    for (int64_t i = 0; i < inner; ++i) {
      if (op == kSum || op == kMean) {
        double s = 0;
        for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * inner + i];
        dst[i] = static_cast<float>(op == kMean ? s / mid : s);
      } else {
        float v = partial_f[i];
        for (int t = 1; t < threads; ++t) {
          float w = partial_f[static_cast<size_t>(t) * inner + i];
          v = op == kRMax ? (w > v || std::isnan(w) ? w : v) : (w < v || std::isnan(w) ? w : v);
        }
        dst[i] = v;
      }
    }
  }
  return undefined(env);
}

napi_value broadcast(napi_env env, const Args& a) {
  Span<float> x = a.f32(0, "x"), out = a.f32(1, "out");
  const Split split = read_split(a, 2, 0);
  const int64_t outer = split.outer, mid = split.mid, inner = split.inner;
  expect_length(a, x, outer * inner, "x", "outer·inner");
  expect_length(a, out, outer * mid * inner, "out", "outer·mid·inner");
  const int64_t rows = outer * mid;
#pragma omp parallel for schedule(static) if (rows * inner >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / mid;
    std::memcpy(out.data + r * inner, x.data + o * inner, sizeof(float) * inner);
  }
  return undefined(env);
}

napi_value sum_product(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "a"), ys = a.f32(1, "b"), outs = a.f32(2, "out");
  const Split split = read_split(a, 3, 0);
  const int64_t outer = split.outer, mid = split.mid, inner = split.inner;
  expect_length(a, xs, outer * mid * inner, "a", "outer·mid·inner");
  expect_length(a, ys, outer * mid * inner, "b", "outer·mid·inner");
  expect_length(a, outs, outer * inner, "out", "outer·inner");
  const float *x = xs.data, *y = ys.data;
  float* out = outs.data;
  const bool par = outer * mid * inner >= kParallelMin;
  if (outer >= 2 * omp_get_max_threads() || !par) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> acc(inner, 0.0);
      const float* xb = x + o * mid * inner;
      const float* yb = y + o * mid * inner;
      for (int64_t m = 0; m < mid; ++m)
        for (int64_t i = 0; i < inner; ++i) acc[i] += xb[m * inner + i] * yb[m * inner + i];
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(acc[i]);
    }
    return undefined(env);
  }
  std::vector<double> s1(inner), s2(inner);
  std::vector<float> zf(inner, 0.f);
  for (int64_t o = 0; o < outer; ++o) {
    // channel_sums gives Σ b and Σ b·(a − 0) over the rows of [mid, inner].
    channel_sums(y + o * mid * inner, x + o * mid * inner, zf.data(), mid, inner, s1.data(), s2.data());
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(s2[i]);
  }
  return undefined(env);
}

}  // namespace scconv
