// The addon's entry points, one family per file (mirroring src/kernels/), and the helpers that
// families share. Each entry reads and checks its arguments through Args (args.h) before touching
// memory; module.cc registers them under their JS names. Every function writes into output arrays
// the caller allocated.

#pragma once

#include "args.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace scconv {

// Element counts below this run on one thread (thread start-up costs more than it saves).
constexpr int64_t kParallelMin = 1 << 15;

// Rows [r0, r1) of an array of `rows` rows for this thread of the enclosing OpenMP parallel region.
struct RowRange {
  int64_t r0, r1;
};
inline RowRange my_rows(int64_t rows) {
  const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
  return {rows * id / nt, rows * (id + 1) / nt};
}

// Example i's pixels [q0, q1) among rows [r0, r1) of an [n·p, ·] array: for the loops that walk a
// thread's rows example by example, i from r0 / p while i·p < r1.
struct PixelRange {
  int64_t q0, q1;
};
inline PixelRange example_pixels(int64_t i, int64_t p, int64_t r0, int64_t r1) {
  return {std::max<int64_t>(r0 - i * p, 0), std::min(r1 - i * p, p)};
}

// Sums over rows [r0, r1) taken 64 at a time: fill(q0, q1, block) adds its float sums over rows
// [q0, q1) into block [w] (zeroed before each call), and each block's sums are added into acc [w] in
// double, so no float sum runs over more than 64 rows. The sums of sru.cc, cru.cc and reduce.cc.
constexpr int64_t kSumBlock = 64;
template <typename Fill>
inline void blocked_sums(int64_t r0, int64_t r1, float* block, int64_t w, double* acc, Fill fill) {
  for (int64_t q0 = r0; q0 < r1; q0 += kSumBlock) {
    std::fill(block, block + w, 0.f);
    fill(q0, std::min(r1, q0 + kSumBlock), block);
    for (int64_t k = 0; k < w; ++k) acc[k] += block[k];
  }
}

// conv.cc: oneDNN convolutions (forward, input and filter gradients; grouped for depthwise).
napi_value conv(napi_env env, const Args& a);
napi_value conv_impl(napi_env env, const Args& a);

// matmul.cc: batched matrix product through oneDNN.
napi_value mat_mul(napi_env env, const Args& a);
// c = a·b (c += a·b when accumulate) for a [m, k], b [k, n], c [m, n] with row strides lda, ldb,
// ldc; a transposed (ta) is stored [k, m], b transposed (tb) [n, k]. Strides may exceed the row
// length, so a, b, c can be column blocks of wider matrices. Callers check the extents.
void matmul_2d(const float* a, bool ta, int64_t lda, const float* b, bool tb, int64_t ldb, float* c, int64_t ldc,
               int64_t m, int64_t k, int64_t n, bool accumulate);

// elementwise.cc: broadcast binary ops, unary ops, AddN.
napi_value binary(napi_env env, const Args& a);
napi_value unary(napi_env env, const Args& a);
napi_value add_n(napi_env env, const Args& a);

// reduce.cc: reductions over the middle axis of [outer, mid, inner], their broadcast, Σ a·b.
napi_value reduce(napi_env env, const Args& a);
napi_value broadcast(napi_env env, const Args& a);
napi_value sum_product(napi_env env, const Args& a);
// Per-channel sums over the rows of [rows, c]: s1 = Σ dy, s2 = Σ dy·(x − mean) (batch_norm.cc too).
void channel_sums(const float* dy, const float* x, const float* mean, int64_t rows, int64_t c, double* s1,
                  double* s2);

// batch_norm.cc: batch norm over the channel axis and its gradient.
napi_value batch_norm(napi_env env, const Args& a);
napi_value batch_norm_grad(napi_env env, const Args& a);

// copy.cc: strided row copies and N-d slices.
napi_value copy_rows(napi_env env, const Args& a);
napi_value slice(napi_env env, const Args& a);

// pool.cc: k×k block sums and spreads (AvgPool with window = stride, nearest upsampling, gradients).
napi_value block_reduce(napi_env env, const Args& a);
napi_value block_spread(napi_env env, const Args& a);

// sru.cc: SCConv's SRU (GroupNorm statistics, gates, half swap) forward and its gradient.
napi_value sru_forward(napi_env env, const Args& a);
napi_value sru_backward(napi_env env, const Args& a);

// cru.cc: the CRU's squeezes + PWC2 (SCConv Eq. 5–6's 1×1 convolutions), its pooling + attention +
// weighted sum (Eq. 7–9), and their gradients.
napi_value cru_squeeze(napi_env env, const Args& a);
napi_value cru_squeeze_grad(napi_env env, const Args& a);
napi_value cru_fuse(napi_env env, const Args& a);
napi_value cru_fuse_grad(napi_env env, const Args& a);

// scconv.cc: SCConv's inference forward (SRU then CRU) one example at a time, in cache.
napi_value scconv_inference(napi_env env, const Args& a);
// Its per-example parts, from sru.cc and cru.cc (which state the maths), on one example's arrays:
// the SRU's affine z = a·x + b [c] of x [hw, c] (its GroupNorm statistics, Eq. 1–2), the SRU's gates
// and reconstruction (Eq. 3–4) of m pixels x [m, c] into y, the CRU's squeezes and PWC2 (Eq. 5–6) of
// m pixels, and the fuse (Eq. 7–9) of p pixels with Y1 = y1 + bias and Y2 = [pwc2 | low] into y.
void sru_example_affine(const float* x, int64_t hw, int64_t c, int64_t groups, const float* gamma, const float* beta,
                        double eps, float* a, float* b);
void sru_reconstruct(const float* x, float* y, const float* a, const float* b, int64_t m, int64_t c, float t,
                     float hard);
void cru_squeeze_example(const float* x, int64_t m, int64_t c, int64_t up, int64_t a, int64_t b, const float* w1,
                         const float* w2, const float* pwc2, float* up_s, float* low_s, float* y2p);
void cru_fuse_example(const float* y1, const float* bias, const float* pwc2, const float* low, int64_t p, int64_t c,
                      int64_t l, int fusion, float* y);

// sgd.cc: the SGD-with-momentum update of one weight and its velocity (src/train/sgd.ts).
napi_value sgd_momentum(napi_env env, const Args& a);

}  // namespace scconv
