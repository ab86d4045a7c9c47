// The CRU's 1×1 convolutions (SCConv, paper Eq. 5–6: the two squeezes and PWC2) and its fuse step
// (Eq. 7–9), with their gradients. src/kernels/cru.ts calls:
//
//   cruSqueeze(x, w1, w2, pwc2, up_s, low_s, y2p, m, c, up, a, b)
//     For m pixels of x [m, c]: up_s [m, a] = x[:, :up]·w1 and low_s [m, b] = x[:, up:]·w2 (the
//     squeezes, w1 [up, a], w2 [c − up, b]), y2p [m, c − b] = low_s·pwc2 (PWC2, pwc2 [b, c − b]).
//     The matmuls read their channel part of x in place (row stride c): no slice, no zero-padded
//     kernel.
//   cruSqueezeGrad(dup, dlow, dy2p, x, w1, w2, pwc2, low_s, dx, dw1, dw2, dpwc2, m, c, up, a, b)
//     Its gradients, through dS = [dup | dlow + dy2p·pwc2ᵀ] [m, a + b] (low_s also feeds PWC2) and
//     the squeezes' block-diagonal kernel K = [w1 0; 0 w2] [c, a + b]: dx = dS·Kᵀ, [dw1, dw2] = the
//     diagonal blocks of xᵀ·dS, dpwc2 = low_sᵀ·dy2p. Up to c = 32 in one pass over the pixels (dS
//     of a pixel never leaves registers), above as four dense matmuls that read x once
//     (kOnePassMaxC says why).
//   cruFuse(y1, bias, pwc2, low, y, beta, n, p, c, l, fusion)
//     Y1 = y1 + bias (the GWC's bias, bias [c], added here rather than by the conv, so that its
//     gradient comes from sums this kernel's gradient takes anyway) and Y2 = [pwc2 | low] along the
//     channels (Eq. 6's feature reuse, never concatenated), with y1 [n, p, c], pwc2 [n, p, c − l],
//     low [n, p, l] for p pixels. Pass 1: S1, S2 = the pixel means of Y1, Y2 (Eq. 7); β from them
//     (Eq. 8): fusion 0 'pairwise' β1 = σ(S1 − S2), β2 = 1 − β1 per channel; fusion 1 'global'
//     [β1 | β2] = softmax over all 2c of [S1 | S2]. Pass 2: y = β1·Y1 + β2·Y2 (Eq. 9) into
//     y [n, p, c]; beta [n, 2c] = [β1 | β2].
//   cruFuseGrad(dy, dbeta, y1, bias, pwc2, low, beta, dy1, dbias, dpwc2, dlow, n, p, c, l, fusion)
//     The gradients of cruFuse for its four inputs (src/kernels/cru.ts derives them):
//       pass 1: g1 = Σ_p dy·Y1 + dβ1, g2 = Σ_p dy·Y2 + dβ2 (dbeta [n, 2c]: the β output's gradient),
//       and D = Σ_p dy, with Σ_p dy·Y1 = Σ_p dy·y1 + bias·D;
//       then dS from the softmax Jacobian (pairwise: dS1 = (g1 − g2)·β1·β2 = −dS2;
//       global: dS_j = β_j·(g_j − Σ_k β_k·g_k) over the 2c);
//       pass 2: dY1 = β1·dy + dS1/p, dY2 = β2·dy + dS2/p, dY2 written as dpwc2 | dlow;
//       dy1 = dY1, and dbias = Σ_n Σ_p dY1 = Σ_n (β1·D + dS1), from pass 1's sums.
//   cru_squeeze_example and cru_fuse_example (kernels.h): the squeezes and the fuse of one example,
//   the same loops, for scconv.cc's inference kernel.

#include "fast_math.h"
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace scconv {
namespace {

enum Fusion { kPairwise, kGlobal, kFusions };

// The shapes every entry checks: y1 [n, p, c], pwc2 [n, p, c − l], low [n, p, l].
struct Plan {
  int64_t n, p, c, l;
  int64_t rows() const { return n * p; }
};

Plan read_plan(const Args& a, size_t i, const Span<float>& y1, const Span<float>& pwc2, const Span<float>& low) {
  Plan s{a.integer(i, "n", 0), a.integer(i + 1, "p", 1), a.integer(i + 2, "c", 1), 0};
  s.l = a.integer(i + 3, "l", 0, s.c);
  expect_length(a, y1, product(a, {s.n, s.p, s.c}, "y1"), "y1", "[n, p, c]");
  expect_length(a, pwc2, product(a, {s.n, s.p, s.c - s.l}, "pwc2"), "pwc2", "[n, p, c − l]");
  expect_length(a, low, product(a, {s.n, s.p, s.l}, "low"), "low", "[n, p, l]");
  return s;
}

// The fuse kernels' row loops, templated on the width (SCCONV_ROW_WIDTHS, fast_math.h): kC > 0 is
// c = kC with the CIFAR CRU's l = c/4 (Y2 = [PWC2 (3c/4) | lowS (c/4)]), 0 any other plan. Built
// per CPU (SCCONV_SIMD_CLONES), they ran 2–3× faster than the runtime-width loops of the baseline
// build (reports/bench/2026-12-01e-fuse-row-loops.txt).
inline int64_t fuse_width(const Plan& s) { return s.l * 4 == s.c ? s.c : 0; }

// Adds, over pixels [q0, q1) of one example, Σ w·Y1 into b1 [c], Σ w·Y2 into b2 [c] and (kDot) Σ dy
// into b3 [c], with w = dy (kDot) or 1; the arrays start at the example's first pixel.
template <int64_t kC, bool kDot>
SCCONV_INLINE void branch_sum_pixels(const Plan& s, const float* __restrict dy, const float* __restrict y1,
                                     const float* __restrict pwc2, const float* __restrict low, int64_t q0,
                                     int64_t q1, float* __restrict b1, float* __restrict b2, float* __restrict b3) {
  const int64_t c = kC ? kC : s.c, l = kC ? kC / 4 : s.l, cp = c - l;
  for (int64_t q = q0; q < q1; ++q) {
    const float *g = kDot ? dy + q * c : nullptr, *a1 = y1 + q * c, *ap = pwc2 + q * cp, *al = low + q * l;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) b1[ch] += kDot ? g[ch] * a1[ch] : a1[ch];
#pragma omp simd
    for (int64_t ch = 0; ch < cp; ++ch) b2[ch] += kDot ? g[ch] * ap[ch] : ap[ch];
#pragma omp simd
    for (int64_t ch = 0; ch < l; ++ch) b2[cp + ch] += kDot ? g[cp + ch] * al[ch] : al[ch];
    if (kDot) {
#pragma omp simd
      for (int64_t ch = 0; ch < c; ++ch) b3[ch] += g[ch];
    }
  }
}

SCCONV_SIMD_CLONES
void branch_sum_rows(bool dot, const Plan& s, const float* dy, const float* y1, const float* pwc2, const float* low,
                     int64_t q0, int64_t q1, float* b1, float* b2, float* b3) {
  const int64_t c = fuse_width(s);
#define SCCONV_CALL(W)                                                          \
  if (dot) branch_sum_pixels<W, true>(s, dy, y1, pwc2, low, q0, q1, b1, b2, b3); \
  else branch_sum_pixels<W, false>(s, dy, y1, pwc2, low, q0, q1, b1, b2, b3)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// out[i, 0:c] = Σ_p w·Y1, out[i, c:2c] = Σ_p w·Y2 per example i, with w = dy (kDot) or 1; with kDot
// also out[i, 2c:3c] = Σ_p dy (out is [n, 3c] then, else [n, 2c]). Y1 here is y1 (the bias is added
// by the callers). One pass over the inputs; work split into (example, pixel chunk) tasks so that
// n = 1 uses every thread too; float sums over blocks of 64 pixels, double across blocks.
template <bool kDot>
void branch_sums(const float* dy, const float* y1, const float* pwc2, const float* low, const Plan& s,
                 double* out) {
  const int64_t c = s.c, l = s.l, cp = c - l, width = (kDot ? 3 : 2) * c;
  const bool par = s.rows() * c >= kParallelMin;
  const int64_t threads = par ? omp_get_max_threads() : 1;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(s.p, (threads + s.n - 1) / std::max<int64_t>(s.n, 1)));
  std::vector<double> partial(static_cast<size_t>(s.n * chunks * width), 0.0);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t t = 0; t < s.n * chunks; ++t) {
    const int64_t i = t / chunks, k = t % chunks;
    const int64_t p0 = s.p * k / chunks, p1 = s.p * (k + 1) / chunks;
    std::vector<float> block(width);
    const int64_t r = i * s.p;
    blocked_sums(p0, p1, block.data(), width, partial.data() + t * width, [&](int64_t q0, int64_t q1, float* blk) {
      branch_sum_rows(kDot, s, kDot ? dy + r * c : nullptr, y1 + r * c, pwc2 + r * cp, low + r * l, q0, q1, blk,
                      blk + c, blk + 2 * c);
    });
  }
  for (int64_t i = 0; i < s.n; ++i) {
    for (int64_t j = 0; j < width; ++j) {
      double v = 0;
      for (int64_t k = 0; k < chunks; ++k) v += partial[static_cast<size_t>((i * chunks + k) * width + j)];
      out[i * width + j] = v;
    }
  }
}

// Fuse pass 2 over rows [r0, r1) of [n·p, ·], example by example: y = β1·(y1 + bias) + β2·Y2 (Eq. 9),
// beta [n, 2c] = [β1 | β2].
template <int64_t kC>
SCCONV_INLINE void weighted_sum_pixels(const Plan& s, const float* __restrict y1, const float* __restrict bias,
                                       const float* __restrict pwc2, const float* __restrict low,
                                       const float* __restrict b1, float* __restrict y, int64_t q0, int64_t q1) {
  const int64_t c = kC ? kC : s.c, l = kC ? kC / 4 : s.l, cp = c - l;
  const float* __restrict b2 = b1 + c;
  for (int64_t q = q0; q < q1; ++q) {
    const float *a1 = y1 + q * c, *ap = pwc2 + q * cp, *al = low + q * l;
    float* o = y + q * c;
#pragma omp simd
    for (int64_t ch = 0; ch < cp; ++ch) o[ch] = b1[ch] * (a1[ch] + bias[ch]) + b2[ch] * ap[ch];
#pragma omp simd
    for (int64_t ch = 0; ch < l; ++ch) o[cp + ch] = b1[cp + ch] * (a1[cp + ch] + bias[cp + ch]) + b2[cp + ch] * al[ch];
  }
}

SCCONV_SIMD_CLONES
void weighted_sum_rows(const Plan& s, const float* y1, const float* bias, const float* pwc2, const float* low,
                       const float* beta, float* y, int64_t r0, int64_t r1) {
  const int64_t c = fuse_width(s), l = s.l, cp = s.c - l;
  for (int64_t i = r0 / s.p; i * s.p < r1; ++i) {
    const auto [q0, q1] = example_pixels(i, s.p, r0, r1);
    const int64_t r = i * s.p;
#define SCCONV_CALL(W) \
  weighted_sum_pixels<W>(s, y1 + r * s.c, bias, pwc2 + r * cp, low + r * l, beta + i * 2 * s.c, y + r * s.c, q0, q1)
    SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
  }
}

// Fuse-gradient pass 2 over rows [r0, r1), example by example: dY1 = β1·dy + dS1/p into dy1, dY2 =
// β2·dy + dS2/p into dpwc2 | dlow (spread [n, 2c] = dS/p).
template <int64_t kC>
SCCONV_INLINE void spread_pixels(const Plan& s, const float* __restrict dy, const float* __restrict b1,
                                 const float* __restrict d1, float* __restrict dy1, float* __restrict dpwc2,
                                 float* __restrict dlow, int64_t q0, int64_t q1) {
  const int64_t c = kC ? kC : s.c, l = kC ? kC / 4 : s.l, cp = c - l;
  const float *__restrict b2 = b1 + c, *__restrict d2 = d1 + c;
  for (int64_t q = q0; q < q1; ++q) {
    const float* gr = dy + q * c;
    float *o1 = dy1 + q * c, *op = dpwc2 + q * cp, *ol = dlow + q * l;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) o1[ch] = b1[ch] * gr[ch] + d1[ch];
#pragma omp simd
    for (int64_t ch = 0; ch < cp; ++ch) op[ch] = b2[ch] * gr[ch] + d2[ch];
#pragma omp simd
    for (int64_t ch = 0; ch < l; ++ch) ol[ch] = b2[cp + ch] * gr[cp + ch] + d2[cp + ch];
  }
}

SCCONV_SIMD_CLONES
void spread_rows(const Plan& s, const float* dy, const float* beta, const float* spread, float* dy1, float* dpwc2,
                 float* dlow, int64_t r0, int64_t r1) {
  const int64_t c = fuse_width(s), l = s.l, cp = s.c - l;
  for (int64_t i = r0 / s.p; i * s.p < r1; ++i) {
    const auto [q0, q1] = example_pixels(i, s.p, r0, r1);
    const int64_t r = i * s.p;
#define SCCONV_CALL(W)                                                                                        \
  spread_pixels<W>(s, dy + r * s.c, beta + i * 2 * s.c, spread + i * 2 * s.c, dy1 + r * s.c, dpwc2 + r * cp, \
                   dlow + r * l, q0, q1)
    SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
  }
}

// β = [β1 | β2] [2c] of one example (Eq. 8) from its branch sums S = [Σ_p y1 | Σ_p Y2] [2c] over p
// pixels (y1 without the bias, which is added to S here: Σ_p Y1 = Σ_p y1 + p·bias); fusion kPairwise
// β1 = σ((S1 − S2)/p) per channel, β2 = 1 − β1; kGlobal a softmax over all 2c pooled means S/p.
void betas_of(double* S, const float* bias, int64_t p, int64_t c, int fusion, float* beta) {
  for (int64_t ch = 0; ch < c; ++ch) S[ch] += static_cast<double>(bias[ch]) * p;
  if (fusion == kPairwise) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const double b1 = 1.0 / (1.0 + std::exp(-(S[ch] - S[c + ch]) / p));
      beta[ch] = static_cast<float>(b1);
      beta[c + ch] = static_cast<float>(1.0 - b1);
    }
  } else {
    double top = S[0] / p, total = 0;
    for (int64_t j = 1; j < 2 * c; ++j) top = std::max(top, S[j] / p);
    std::vector<double> e(2 * c);
    for (int64_t j = 0; j < 2 * c; ++j) total += e[j] = std::exp(S[j] / p - top);
    for (int64_t j = 0; j < 2 * c; ++j) beta[j] = static_cast<float>(e[j] / total);
  }
}

// The shapes of the squeeze entries: x [m, c] split at up, squeezed to a and b channels.
struct SqueezePlan {
  int64_t m, c, up, a, b;
  int64_t low() const { return c - up; }
  int64_t rest() const { return c - b; }  // PWC2's output channels
  // The width the one-pass row loops are built for (SCCONV_ROW_WIDTHS): c for the CIFAR CRU's plan
  // up = c/2, a = b = c/4 (α = 1/2, r = 2), 0 (the generic loop) for any other.
  int64_t row_width() const { return up * 2 == c && a * 4 == c && b * 4 == c ? c : 0; }
};

SqueezePlan read_squeeze_plan(const Args& a, size_t i) {
  SqueezePlan s{a.integer(i, "m", 1), a.integer(i + 1, "c", 2), 0, 0, 0};
  s.up = a.integer(i + 2, "up", 1, s.c - 1);
  s.a = a.integer(i + 3, "a", 1);
  s.b = a.integer(i + 4, "b", 1, s.c - 1);
  product(a, {s.m, s.c}, "x");
  product(a, {s.m, s.a}, "up_s");
  return s;
}

// Weight arrays of the squeeze entries: w1 [up, a], w2 [c − up, b], pwc2 [b, c − b].
void expect_squeeze_weights(const Args& a, const SqueezePlan& s, const Span<float>& w1, const Span<float>& w2,
                            const Span<float>& pwc2, const char* n1, const char* n2, const char* n3) {
  expect_length(a, w1, product(a, {s.up, s.a}, n1), n1, "[up, a]");
  expect_length(a, w2, product(a, {s.low(), s.b}, n2), n2, "[c − up, b]");
  expect_length(a, pwc2, product(a, {s.b, s.rest()}, n3), n3, "[b, c − b]");
}

// The squeeze gradient over pixel rows [r0, r1) in one pass. Per pixel: dS = [dup | dlow +
// dy2p·pwc2ᵀ], dx = [dS_up·w1ᵀ | dS_low·w2ᵀ]; the weight gradients' sums are added into acc1 [a, up]
// (dw1ᵀ), acc2 [b, low] (dw2ᵀ) and accp [b, rest] (dpwc2). The weights come transposed: w1t [a, up],
// w2t [b, low], pwc2t [rest, b], so every inner loop runs along a contiguous row with one factor
// broadcast. kC > 0: c = kC with the CIFAR CRU's plan up = c/2, a = b = c/4 (α = 1/2, r = 2).
template <int64_t kC>
SCCONV_INLINE void squeeze_grad_pixels(const SqueezePlan& s, const float* __restrict dup, const float* __restrict dlow,
                                       const float* __restrict dy2p, const float* __restrict x,
                                       const float* __restrict low_s, const float* __restrict w1t,
                                       const float* __restrict w2t, const float* __restrict pwc2t, float* __restrict dx,
                                       int64_t r0, int64_t r1, float* __restrict acc1, float* __restrict acc2,
                                       float* __restrict accp) {
  const int64_t c = kC ? kC : s.c, up = kC ? kC / 2 : s.up, a = kC ? kC / 4 : s.a, b = kC ? kC / 4 : s.b;
  const int64_t low = c - up, rest = c - b;
  RowArray<kC / 4> dl_row(b);
  RowArray<kC> out_row(c);
  float* __restrict dl = dl_row.data();
  float* __restrict out = out_row.data();
  for (int64_t r = r0; r < r1; ++r) {
    const float *g = dup + r * a, *e = dy2p + r * rest, *xr = x + r * c, *lr = low_s + r * b;
#pragma omp simd
    for (int64_t j = 0; j < b; ++j) dl[j] = dlow[r * b + j];
    for (int64_t q = 0; q < rest; ++q) {
#pragma omp simd
      for (int64_t j = 0; j < b; ++j) dl[j] += e[q] * pwc2t[q * b + j];
    }
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) out[ch] = 0.f;
    for (int64_t j = 0; j < a; ++j) {
#pragma omp simd
      for (int64_t ch = 0; ch < up; ++ch) {
        out[ch] += g[j] * w1t[j * up + ch];
        acc1[j * up + ch] += g[j] * xr[ch];
      }
    }
    for (int64_t j = 0; j < b; ++j) {
#pragma omp simd
      for (int64_t ch = 0; ch < low; ++ch) {
        out[up + ch] += dl[j] * w2t[j * low + ch];
        acc2[j * low + ch] += dl[j] * xr[up + ch];
      }
#pragma omp simd
      for (int64_t q = 0; q < rest; ++q) accp[j * rest + q] += lr[j] * e[q];
    }
    float* o = dx + r * c;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) o[ch] = out[ch];
  }
}

SCCONV_SIMD_CLONES
void squeeze_grad_rows(const SqueezePlan& s, const float* dup, const float* dlow, const float* dy2p, const float* x,
                       const float* low_s, const float* w1t, const float* w2t, const float* pwc2t, float* dx,
                       int64_t r0, int64_t r1, float* acc1, float* acc2, float* accp) {
  const int64_t c = s.row_width();
#define SCCONV_CALL(W) squeeze_grad_pixels<W>(s, dup, dlow, dy2p, x, low_s, w1t, w2t, pwc2t, dx, r0, r1, acc1, acc2, accp)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// Up to this width the squeeze gradient runs in one pass over the pixels (squeeze_grad_one_pass),
// above it as four oneDNN matmuls (squeeze_grad_by_matmuls). Raw, at batch 128 on the CIFAR
// shapes: one pass took 1.15 ms against 3.1-3.4 at c = 16, 0.87-0.90 against 1.07-1.12 at c = 32,
// but 0.82-1.27 against 0.61-0.74 at c = 64, where its weight-gradient sums (1,792 a pixel) no
// longer stay in registers (reports/bench/2026-12-01e-squeeze-grad-one-pass.txt).
constexpr int64_t kOnePassMaxC = 32;

// The squeezes and PWC2 over pixel rows [r0, r1) in one pass: up_s = x[:, :up]·w1, low_s =
// x[:, up:]·w2, y2p = low_s·pwc2, each inner loop along a weight row with one factor broadcast.
// kC > 0: c = kC with the CIFAR CRU's plan (see squeeze_grad_pixels).
template <int64_t kC>
SCCONV_INLINE void squeeze_pixels(const SqueezePlan& s, const float* __restrict x, const float* __restrict w1,
                                  const float* __restrict w2, const float* __restrict pwc2, float* __restrict up_s,
                                  float* __restrict low_s, float* __restrict y2p, int64_t r0, int64_t r1) {
  const int64_t c = kC ? kC : s.c, up = kC ? kC / 2 : s.up, a = kC ? kC / 4 : s.a, b = kC ? kC / 4 : s.b;
  const int64_t low = c - up, rest = c - b;
  RowArray<kC / 4> u_row(a), l_row(b);
  RowArray<kC ? kC - kC / 4 : 0> y_row(rest);
  float* __restrict u = u_row.data();
  float* __restrict l = l_row.data();
  float* __restrict y = y_row.data();
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
#pragma omp simd
    for (int64_t j = 0; j < a; ++j) u[j] = 0.f;
#pragma omp simd
    for (int64_t j = 0; j < b; ++j) l[j] = 0.f;
#pragma omp simd
    for (int64_t q = 0; q < rest; ++q) y[q] = 0.f;
    for (int64_t i = 0; i < up; ++i) {
#pragma omp simd
      for (int64_t j = 0; j < a; ++j) u[j] += xr[i] * w1[i * a + j];
    }
    for (int64_t i = 0; i < low; ++i) {
#pragma omp simd
      for (int64_t j = 0; j < b; ++j) l[j] += xr[up + i] * w2[i * b + j];
    }
    for (int64_t j = 0; j < b; ++j) {
#pragma omp simd
      for (int64_t q = 0; q < rest; ++q) y[q] += l[j] * pwc2[j * rest + q];
    }
#pragma omp simd
    for (int64_t j = 0; j < a; ++j) up_s[r * a + j] = u[j];
#pragma omp simd
    for (int64_t j = 0; j < b; ++j) low_s[r * b + j] = l[j];
#pragma omp simd
    for (int64_t q = 0; q < rest; ++q) y2p[r * rest + q] = y[q];
  }
}

SCCONV_SIMD_CLONES
void squeeze_rows(const SqueezePlan& s, const float* x, const float* w1, const float* w2, const float* pwc2,
                  float* up_s, float* low_s, float* y2p, int64_t r0, int64_t r1) {
  const int64_t c = s.row_width();
#define SCCONV_CALL(W) squeeze_pixels<W>(s, x, w1, w2, pwc2, up_s, low_s, y2p, r0, r1)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// The arrays of one cruSqueezeGrad call (shapes in the header).
struct SqueezeGradArrays {
  const float *dup, *dlow, *dy2p, *x, *w1, *w2, *pwc2, *low_s;
  float *dx, *dw1, *dw2, *dpwc2;
};


// The weights transposed (see squeeze_grad_pixels), then the pixels in a fixed number of tasks (so
// the result does not depend on the thread count), each task's weight-gradient sums in float over
// blocks of 64 pixels and in double across blocks and tasks.
void squeeze_grad_one_pass(const SqueezePlan& s, const SqueezeGradArrays& g) {
  const int64_t up = s.up, low = s.low(), a = s.a, b = s.b, rest = s.rest();
  std::vector<float> w1t(a * up), w2t(b * low), pwc2t(rest * b);
  for (int64_t i = 0; i < up; ++i) for (int64_t j = 0; j < a; ++j) w1t[j * up + i] = g.w1[i * a + j];
  for (int64_t i = 0; i < low; ++i) for (int64_t j = 0; j < b; ++j) w2t[j * low + i] = g.w2[i * b + j];
  for (int64_t j = 0; j < b; ++j) for (int64_t q = 0; q < rest; ++q) pwc2t[q * b + j] = g.pwc2[j * rest + q];
  constexpr int64_t kTasks = 32;
  const int64_t n1 = a * up, n2 = b * low, n3 = b * rest, width = n1 + n2 + n3;
  const int64_t tasks = std::min<int64_t>(kTasks, (s.m + kSumBlock - 1) / kSumBlock);
  std::vector<double> partial(static_cast<size_t>(tasks * width), 0.0);
#pragma omp parallel for schedule(static) if (s.m * s.c >= kParallelMin)
  for (int64_t t = 0; t < tasks; ++t) {
    std::vector<float> block(width);
    blocked_sums(s.m * t / tasks, s.m * (t + 1) / tasks, block.data(), width, partial.data() + t * width,
                 [&](int64_t r0, int64_t r1, float* blk) {
                   squeeze_grad_rows(s, g.dup, g.dlow, g.dy2p, g.x, g.low_s, w1t.data(), w2t.data(), pwc2t.data(),
                                     g.dx, r0, r1, blk, blk + n1, blk + n1 + n2);
                 });
  }
  std::vector<double> sum(static_cast<size_t>(width), 0.0);
  for (int64_t t = 0; t < tasks; ++t) for (int64_t k = 0; k < width; ++k) sum[k] += partial[t * width + k];
  for (int64_t i = 0; i < up; ++i) for (int64_t j = 0; j < a; ++j) g.dw1[i * a + j] = static_cast<float>(sum[j * up + i]);
  for (int64_t i = 0; i < low; ++i) for (int64_t j = 0; j < b; ++j) g.dw2[i * b + j] = static_cast<float>(sum[n1 + j * low + i]);
  for (int64_t k = 0; k < n3; ++k) g.dpwc2[k] = static_cast<float>(sum[n1 + n2 + k]);
}

// squeeze_grad_by_matmuls' working arrays, kept between calls (grown as needed) rather than allocated each time.
std::vector<float> squeeze_grad_scratch;

// Through dS [m, s] (s = a + b) and the squeezes' block-diagonal kernel K [c, s]: dS = [dup | dlow] +
// dy2p·Pᵀ with P = [0; pwc2] [s, c − b], dpwc2 = low_sᵀ·dy2p, dx = dS·Kᵀ, xᵀ·dS [c, s] whose diagonal
// blocks are dw1 and dw2: four dense matmuls that read x once.
void squeeze_grad_by_matmuls(const SqueezePlan& s, const SqueezeGradArrays& g) {
  const int64_t sq = s.a + s.b, c = s.c, rest = s.rest();
  const int64_t sizes[] = {s.m * sq, sq * rest, c * sq, c * sq};
  squeeze_grad_scratch.resize(std::max<size_t>(squeeze_grad_scratch.size(), sizes[0] + sizes[1] + sizes[2] + sizes[3]));
  float* dS = squeeze_grad_scratch.data();
  float* P = dS + sizes[0];
  float* K = P + sizes[1];
  float* dK = K + sizes[2];
  std::fill(P, P + sizes[1] + sizes[2], 0.f);
  std::copy(g.pwc2, g.pwc2 + s.b * rest, P + s.a * rest);
  for (int64_t i = 0; i < s.up; ++i) std::copy(g.w1 + i * s.a, g.w1 + (i + 1) * s.a, K + i * sq);
  for (int64_t i = s.up; i < c; ++i) std::copy(g.w2 + (i - s.up) * s.b, g.w2 + (i - s.up + 1) * s.b, K + i * sq + s.a);
#pragma omp parallel for schedule(static) if (s.m * sq >= kParallelMin)
  for (int64_t r = 0; r < s.m; ++r) {
    std::copy(g.dup + r * s.a, g.dup + (r + 1) * s.a, dS + r * sq);
    std::copy(g.dlow + r * s.b, g.dlow + (r + 1) * s.b, dS + r * sq + s.a);
  }
  matmul_2d(g.dy2p, false, rest, P, true, rest, dS, sq, s.m, rest, sq, true);
  matmul_2d(g.low_s, true, s.b, g.dy2p, false, rest, g.dpwc2, rest, s.b, s.m, rest, false);
  matmul_2d(dS, false, sq, K, true, sq, g.dx, c, s.m, sq, c, false);
  matmul_2d(g.x, true, c, dS, false, sq, dK, sq, c, s.m, sq, false);
  for (int64_t i = 0; i < s.up; ++i) std::copy(dK + i * sq, dK + i * sq + s.a, g.dw1 + i * s.a);
  for (int64_t i = s.up; i < c; ++i) std::copy(dK + i * sq + s.a, dK + (i + 1) * sq, g.dw2 + (i - s.up) * s.b);
}

}  // namespace

void cru_squeeze_example(const float* x, int64_t m, int64_t c, int64_t up, int64_t a, int64_t b, const float* w1,
                         const float* w2, const float* pwc2, float* up_s, float* low_s, float* y2p) {
  squeeze_rows(SqueezePlan{m, c, up, a, b}, x, w1, w2, pwc2, up_s, low_s, y2p, 0, m);
}

void cru_fuse_example(const float* y1, const float* bias, const float* pwc2, const float* low, int64_t p, int64_t c,
                      int64_t l, int fusion, float* y) {
  const Plan s{1, p, c, l};
  // Pass 1 as cru_fuse's for n ≥ threads (one chunk an example), without its task split: [Σ_p y1 | Σ_p Y2].
  std::vector<float> block(2 * c);
  std::vector<double> sums(2 * c, 0.0);
  blocked_sums(0, p, block.data(), 2 * c, sums.data(), [&](int64_t q0, int64_t q1, float* blk) {
    branch_sum_rows(false, s, nullptr, y1, pwc2, low, q0, q1, blk, blk + c, nullptr);
  });
  std::vector<float> beta(2 * c);
  betas_of(sums.data(), bias, p, c, fusion, beta.data());
  weighted_sum_rows(s, y1, bias, pwc2, low, beta.data(), y, 0, p);
}

napi_value cru_squeeze(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), w1s = a.f32(1, "w1"), w2s = a.f32(2, "w2"), pwc2s = a.f32(3, "pwc2"),
              ups = a.f32(4, "up_s"), lows = a.f32(5, "low_s"), y2ps = a.f32(6, "y2p");
  const SqueezePlan s = read_squeeze_plan(a, 7);
  expect_length(a, xs, s.m * s.c, "x", "[m, c]");
  expect_squeeze_weights(a, s, w1s, w2s, pwc2s, "w1", "w2", "pwc2");
  expect_length(a, ups, s.m * s.a, "up_s", "[m, a]");
  expect_length(a, lows, product(a, {s.m, s.b}, "low_s"), "low_s", "[m, b]");
  expect_length(a, y2ps, product(a, {s.m, s.rest()}, "y2p"), "y2p", "[m, c − b]");
  if (s.c <= kOnePassMaxC) {
#pragma omp parallel if (s.m * s.c >= kParallelMin)
    {
      const RowRange rr = my_rows(s.m);
      squeeze_rows(s, xs.data, w1s.data, w2s.data, pwc2s.data, ups.data, lows.data, y2ps.data, rr.r0, rr.r1);
    }
  } else {
    matmul_2d(xs.data, false, s.c, w1s.data, false, s.a, ups.data, s.a, s.m, s.up, s.a, false);
    matmul_2d(xs.data + s.up, false, s.c, w2s.data, false, s.b, lows.data, s.b, s.m, s.low(), s.b, false);
    matmul_2d(lows.data, false, s.b, pwc2s.data, false, s.rest(), y2ps.data, s.rest(), s.m, s.b, s.rest(), false);
  }
  return undefined(env);
}

napi_value cru_squeeze_grad(napi_env env, const Args& a) {
  Span<float> dups = a.f32(0, "dup"), dlows = a.f32(1, "dlow"), dy2ps = a.f32(2, "dy2p"), xs = a.f32(3, "x"),
              w1s = a.f32(4, "w1"), w2s = a.f32(5, "w2"), pwc2s = a.f32(6, "pwc2"), lows = a.f32(7, "low_s"),
              dxs = a.f32(8, "dx"), dw1s = a.f32(9, "dw1"), dw2s = a.f32(10, "dw2"), dpwc2s = a.f32(11, "dpwc2");
  const SqueezePlan s = read_squeeze_plan(a, 12);
  expect_length(a, xs, s.m * s.c, "x", "[m, c]");
  expect_length(a, dxs, s.m * s.c, "dx", "[m, c]");
  expect_squeeze_weights(a, s, w1s, w2s, pwc2s, "w1", "w2", "pwc2");
  expect_squeeze_weights(a, s, dw1s, dw2s, dpwc2s, "dw1", "dw2", "dpwc2");
  expect_length(a, dups, s.m * s.a, "dup", "[m, a]");
  const int64_t mb = product(a, {s.m, s.b}, "low_s"), mr = product(a, {s.m, s.rest()}, "dy2p");
  expect_length(a, dlows, mb, "dlow", "[m, b]");
  expect_length(a, lows, mb, "low_s", "[m, b]");
  expect_length(a, dy2ps, mr, "dy2p", "[m, c − b]");
  product(a, {s.m, s.a + s.b}, "dS");
  const SqueezeGradArrays g{dups.data, dlows.data, dy2ps.data, xs.data, w1s.data, w2s.data, pwc2s.data, lows.data,
                            dxs.data, dw1s.data, dw2s.data, dpwc2s.data};
  if (s.c <= kOnePassMaxC) {
    squeeze_grad_one_pass(s, g);
  } else {
    squeeze_grad_by_matmuls(s, g);
  }
  return undefined(env);
}

napi_value cru_fuse(napi_env env, const Args& a) {
  Span<float> y1s = a.f32(0, "y1"), biases = a.f32(1, "bias"), pwc2s = a.f32(2, "pwc2"), lows = a.f32(3, "low"),
              ys = a.f32(4, "y"), betas = a.f32(5, "beta");
  const Plan s = read_plan(a, 6, y1s, pwc2s, lows);
  const int fusion = static_cast<int>(a.integer(10, "fusion", 0, kFusions - 1));
  expect_length(a, biases, s.c, "bias", "[c]");
  expect_length(a, ys, s.rows() * s.c, "y", "[n, p, c]");
  expect_length(a, betas, s.n * 2 * s.c, "beta", "[n, 2c]");
  const int64_t c = s.c;
  // Pass 1: the pooled branches (Eq. 7) and β (Eq. 8).
  std::vector<double> sums(static_cast<size_t>(s.n * 2 * c));
  branch_sums<false>(nullptr, y1s.data, pwc2s.data, lows.data, s, sums.data());
  const float* bias = biases.data;
  float* beta = betas.data;
  for (int64_t i = 0; i < s.n; ++i) betas_of(sums.data() + i * 2 * c, bias, s.p, c, fusion, beta + i * 2 * c);
  // Pass 2: y = β1·Y1 + β2·Y2 (Eq. 9).
#pragma omp parallel if (s.rows() * c >= kParallelMin)
  {
    const RowRange rr = my_rows(s.rows());
    weighted_sum_rows(s, y1s.data, bias, pwc2s.data, lows.data, beta, ys.data, rr.r0, rr.r1);
  }
  return undefined(env);
}

napi_value cru_fuse_grad(napi_env env, const Args& a) {
  Span<float> dys = a.f32(0, "dy"), dbetas = a.f32(1, "dbeta"), y1s = a.f32(2, "y1"), biases = a.f32(3, "bias"),
              pwc2s = a.f32(4, "pwc2"), lows = a.f32(5, "low"), betas = a.f32(6, "beta"), dy1s = a.f32(7, "dy1"),
              dbiases = a.f32(8, "dbias"), dpwc2s = a.f32(9, "dpwc2"), dlows = a.f32(10, "dlow");
  const Plan s = read_plan(a, 11, y1s, pwc2s, lows);
  const int fusion = static_cast<int>(a.integer(15, "fusion", 0, kFusions - 1));
  expect_length(a, biases, s.c, "bias", "[c]");
  expect_length(a, dbiases, s.c, "dbias", "[c]");
  expect_length(a, dys, s.rows() * s.c, "dy", "[n, p, c]");
  expect_length(a, dbetas, s.n * 2 * s.c, "dbeta", "[n, 2c]");
  expect_length(a, betas, s.n * 2 * s.c, "beta", "[n, 2c]");
  expect_length(a, dy1s, s.rows() * s.c, "dy1", "[n, p, c]");
  expect_length(a, dpwc2s, s.rows() * (s.c - s.l), "dpwc2", "[n, p, c − l]");
  expect_length(a, dlows, s.rows() * s.l, "dlow", "[n, p, l]");
  const int64_t c = s.c;
  // Pass 1: g = Σ_p dy·[Y1 | Y2] + dβ and D = Σ_p dy, then dS/p through the softmax Jacobian, kept
  // in `spread`, and dbias = Σ_n (β1·D + dS1).
  std::vector<double> g(static_cast<size_t>(s.n * 3 * c)), dbias(static_cast<size_t>(c), 0.0);
  branch_sums<true>(dys.data, y1s.data, pwc2s.data, lows.data, s, g.data());
  const float* beta = betas.data;
  const float* bias = biases.data;
  std::vector<float> spread(static_cast<size_t>(s.n * 2 * c));
  std::vector<double> ds(static_cast<size_t>(2 * c));  // one example's dS
  for (int64_t i = 0; i < s.n; ++i) {
    double* gi = g.data() + i * 3 * c;
    const double* D = gi + 2 * c;
    const float* b = beta + i * 2 * c;
    float* d = spread.data() + i * 2 * c;
    for (int64_t ch = 0; ch < c; ++ch) gi[ch] += bias[ch] * D[ch];
    for (int64_t j = 0; j < 2 * c; ++j) gi[j] += dbetas.data[i * 2 * c + j];
    if (fusion == kPairwise) {
      for (int64_t ch = 0; ch < c; ++ch) {
        ds[ch] = (gi[ch] - gi[c + ch]) * b[ch] * b[c + ch];
        ds[c + ch] = -ds[ch];
      }
    } else {
      double dot = 0;
      for (int64_t j = 0; j < 2 * c; ++j) dot += b[j] * gi[j];
      for (int64_t j = 0; j < 2 * c; ++j) ds[j] = b[j] * (gi[j] - dot);
    }
    for (int64_t j = 0; j < 2 * c; ++j) d[j] = static_cast<float>(ds[j] / s.p);
    for (int64_t ch = 0; ch < c; ++ch) dbias[ch] += b[ch] * D[ch] + ds[ch];
  }
  for (int64_t ch = 0; ch < c; ++ch) dbiases.data[ch] = static_cast<float>(dbias[ch]);
  // Pass 2: dY1 = β1·dy + dS1/p, dY2 = β2·dy + dS2/p.
#pragma omp parallel if (s.rows() * c >= kParallelMin)
  {
    const RowRange rr = my_rows(s.rows());
    spread_rows(s, dys.data, beta, spread.data(), dy1s.data, dpwc2s.data, dlows.data, rr.r0, rr.r1);
  }
  return undefined(env);
}

}  // namespace scconv
