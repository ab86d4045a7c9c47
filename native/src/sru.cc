// SCConv's Spatial Reconstruction Unit (paper Eq. 1–4) as one forward and one backward kernel,
// NHWC float32, x [n, hw, c] with c even and groups dividing c. src/kernels/sru.ts calls:
//
//   sruForward(x, gamma, beta, y, mean, rstd, n, hw, c, groups, threshold, hard, epsilon)
//     Pass 1 over x: per-(sample, group) mean and rstd = 1/√(max(E[x²] − E[x]², 0) + ε) (written to
//     mean, rstd [n, groups]). Pass 2 over x: z = w_γ·(γ·x̂ + β), x̂ = (x − mean)·rstd, w_γ = γ/Σγ;
//     w = sigmoid(z), m = [w > t]; soft: W1 = where(w>t, 1, w), W2 = where(w>t, 0, w); hard: W1 = m,
//     W2 = 1 − m; y[c] = W1[c]·x[c] + W2[c']·x[c'] with c' = (c + C/2) mod C: the half swap by
//     indexing. Neither w nor the gates are stored.
//   sruBackward(dy, x, gamma, beta, mean, rstd, dx, dgamma, dbeta, n, hw, c, groups, threshold, hard)
//     dx, dγ, dβ from dy and the forward's statistics (w recomputed from x). Soft gate: pass 1 over
//     (x, dy) sums dz and dz·x̂ per (sample, channel), pass 2 writes dx. Hard gate: one pass (the
//     masks pass no gradient to w, so dγ = dβ = 0 and dx is the gate part alone).
//   sru_example_affine and sru_reconstruct (kernels.h): the two forward passes for one example, the
//   same loops, for scconv.cc's inference kernel.
//
// The backward, with q = dy + swap(dy) (src/layers/sru.ts derives the gate part):
//   dx_gate = W1⊙dy + W2⊙swap(dy);  dw = (1 − m)⊙x⊙q (soft), 0 (hard);  dz = dw·w(1 − w).
//   z = w_γ·u, u = γ·x̂ + β:  dβ_c = w_γc·Σ dz,  dγ_c(through u) = w_γc·Σ dz·x̂,  dx̂ = dz·k, k = w_γ·γ,
//   dw_γc = Σ dz·u = γ_c·Σ dz·x̂ + β_c·Σ dz;  w_γ = γ/S, S = Σγ: dγ_j += (dw_γj − Σ_c dw_γc·w_γc)/S,
//   (sums over samples and pixels). GroupNorm backward per (sample, group) of K = hw·c/groups values:
//   dx_gn = rstd·(dx̂ − mean_g(dx̂) − x̂·mean_g(dx̂·x̂)), with mean_g(dx̂) = Σ_{c∈g} k_c·P_c / K and
//   mean_g(dx̂·x̂) = Σ_{c∈g} k_c·Q_c / K from the per-(sample, channel) sums P = Σ dz, Q = Σ dz·x̂.
//   So dx = dx_gate + rstd·k·dz + e0 + ex·x with per-(sample, channel) constants e0, ex.

#include "fast_math.h"
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace scconv {
namespace {

// The geometry of an SRU call: x is [n, hw, c]; groups divide c; c is even.
struct Geometry {
  int64_t n, hw, c, groups;
  int64_t size() const { return n * hw * c; }
  int64_t per_group() const { return c / groups; }
};

// Reads n, hw, c, groups from arguments first..first+3 and checks them.
Geometry read_geometry(const Args& a, size_t first) {
  Geometry g{a.integer(first, "n", 0), a.integer(first + 1, "hw", 1), a.integer(first + 2, "c", 2),
             a.integer(first + 3, "groups", 1)};
  if (g.c % 2 != 0) a.fail("c expects an even channel count (the reconstruction swaps two halves), but received " + std::to_string(g.c));
  if (g.c % g.groups != 0) {
    a.fail("groups expects a divisor of c = " + std::to_string(g.c) + ", but received " + std::to_string(g.groups));
  }
  product(a, {g.n, g.hw, g.c}, "x");
  return g;
}

// w_γ = γ/Σγ (paper Eq. 2) and S = Σγ.
std::vector<float> normalized_gamma(const float* gamma, int64_t c, double* sum) {
  double s = 0;
  for (int64_t i = 0; i < c; ++i) s += gamma[i];
  std::vector<float> wg(c);
  for (int64_t i = 0; i < c; ++i) wg[i] = static_cast<float>(gamma[i] / s);
  *sum = s;
  return wg;
}

// Per-(sample, channel) sums s1, s2 [n, c] over the pixels, two quantities at a time. Each sample's
// pixels are cut into a number of chunks fixed by the shape (so results do not depend on the
// thread count), each chunk into blocks of 64 pixels: body(i, q0, q1, b1, b2) adds the sums over
// pixels [q0, q1) of sample i into the float accumulators b1, b2 [c] (zeroed here), and each
// block's float sums are added into the chunk's double sums.
template <typename Body>
void sample_channel_sums(const Geometry& g, Body body, std::vector<double>& s1, std::vector<double>& s2) {
  const int64_t chunks = std::min<int64_t>(g.hw, std::max<int64_t>(1, 16 / std::max<int64_t>(g.n, 1)));
  const int64_t tasks = g.n * chunks, c = g.c;
  std::vector<double> partial(static_cast<size_t>(tasks) * 2 * c, 0.0);
#pragma omp parallel if (g.size() >= kParallelMin)
  {
    std::vector<float> scratch(2 * c);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t i = t / chunks, k = t % chunks, p0 = g.hw * k / chunks, p1 = g.hw * (k + 1) / chunks;
      blocked_sums(p0, p1, scratch.data(), 2 * c, partial.data() + t * 2 * c,
                   [&](int64_t q0, int64_t q1, float* blk) { body(i, q0, q1, blk, blk + c); });
    }
  }
  s1.assign(g.n * c, 0.0);
  s2.assign(g.n * c, 0.0);
  for (int64_t t = 0; t < tasks; ++t) {
    const double* a1 = partial.data() + t * 2 * c;
    double* o1 = s1.data() + (t / chunks) * c;
    double* o2 = s2.data() + (t / chunks) * c;
    for (int64_t ch = 0; ch < c; ++ch) { o1[ch] += a1[ch]; o2[ch] += a1[c + ch]; }
  }
}

// The gates of one element from its importance w (Eq. 3): W1, W2 and m = [w > t]. hard is 1 for
// the hard gate (W1 = m, W2 = 1 − m), 0 for the soft one (W1 = m + (1 − m)·w, W2 = (1 − m)·w);
// arithmetic rather than branches, so the loops that call it vectorise.
struct Gate {
  float w1, w2, m;
};
inline Gate gate_of(float w, float t, float hard) {
  const float m = w > t ? 1.f : 0.f;
  const float w2 = (1.f - m) * (w + hard * (1.f - w));
  return {m + (1.f - hard) * w2, w2, m};
}

// The soft gate's gradient at z for one element (Eq. 3 through σ): dz = (1 − m)·x·q·w(1 − w), with
// q = dy[ch] + dy[ch'] the upstream gradient reaching w through both of its products.
inline float soft_dz(float x, float q, float w, float m) { return (1.f - m) * x * q * w * (1.f - w); }

// The affine z = a·x + b of each (sample, channel): a = w_γ·γ·rstd, b = w_γ·(β − γ·mean·rstd).
void importance_affine(const Geometry& g, const float* gamma, const float* beta, const float* wg, const float* mean,
                       const float* rstd, std::vector<float>& a, std::vector<float>& b) {
  a.resize(g.n * g.c);
  b.resize(g.n * g.c);
  for (int64_t i = 0; i < g.n; ++i) {
    for (int64_t ch = 0; ch < g.c; ++ch) {
      const int64_t s = i * g.groups + ch / g.per_group();
      const double scale = static_cast<double>(gamma[ch]) * rstd[s];
      a[i * g.c + ch] = static_cast<float>(wg[ch] * scale);
      b[i * g.c + ch] = static_cast<float>(wg[ch] * (beta[ch] - mean[s] * scale));
    }
  }
}

// GroupNorm statistics per (sample, group) from the per-(sample, channel) sums s1 = Σx, s2 = Σx²
// [n, c]: mean and rstd = 1/√(max(E[x²] − E[x]², 0) + ε), each [n, groups].
void group_statistics(const Geometry& g, const double* s1, const double* s2, double eps, float* mean, float* rstd) {
  const int64_t cg = g.per_group();
  const double count = static_cast<double>(g.hw * cg);
  for (int64_t s = 0; s < g.n * g.groups; ++s) {
    double sum = 0, sq = 0;
    for (int64_t ch = 0; ch < cg; ++ch) { sum += s1[s * cg + ch]; sq += s2[s * cg + ch]; }
    const double mu = sum / count, var = std::max(sq / count - mu * mu, 0.0);
    mean[s] = static_cast<float>(mu);
    rstd[s] = static_cast<float>(1.0 / std::sqrt(var + eps));
  }
}

// The inner loops, one function each so SCCONV_SIMD_CLONES can build them for the widest vectors
// the CPU has (fast_math.h). Each walks pixels (rows of c channels) and runs the per-channel maths
// across the whole row in one loop; the half swap (channel ch meets ch' = (ch + c/2) mod c) is a
// separate permutation of a row-sized array, before (backward: swap(dy)) or after (forward: the
// W2-gated products) it. Handling ch and ch' in one lane instead left half a vector idle at c = 16
// (8 lanes where AVX-512 has 16) and ran 2.0× (forward) and 1.5× (backward) slower there
// (reports/bench/2026-12-01e-sru-row-loops.txt). The loops are templated on the width
// (SCCONV_ROW_WIDTHS, fast_math.h).

// out[ch] = in[ch'] for one row: the half swap.
SCCONV_INLINE void swap_halves(const float* __restrict in, float* __restrict out, int64_t c) {
  const int64_t half = c / 2;
#pragma omp simd
  for (int64_t ch = 0; ch < half; ++ch) {
    out[ch] = in[ch + half];
    out[ch + half] = in[ch];
  }
}

// Σx and Σx² over pixels [p0, p1) of one sample x [hw, c], added into b1, b2 [c].
template <int64_t kC>
SCCONV_INLINE void moment_pixels(const float* __restrict x, int64_t p0, int64_t p1, int64_t c_now,
                                 float* __restrict b1, float* __restrict b2) {
  const int64_t c = kC ? kC : c_now;
  for (int64_t p = p0; p < p1; ++p) {
    const float* xr = x + p * c;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      b1[ch] += xr[ch];
      b2[ch] += xr[ch] * xr[ch];
    }
  }
}

SCCONV_SIMD_CLONES
void moment_sums(const float* x, int64_t p0, int64_t p1, int64_t c, float* b1, float* b2) {
#define SCCONV_CALL(W) moment_pixels<W>(x, p0, p1, c, b1, b2)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// Forward pass 2 over pixels [p0, p1) of one sample (x, y: [hw, c]; a, b: the sample's [c] rows):
// w = σ(a·x + b), the gates, then y[ch] = W1[ch]·x[ch] + W2[ch']·x[ch'].
template <int64_t kC>
SCCONV_INLINE void reconstruct_pixels(const float* __restrict x, float* __restrict y, const float* __restrict a,
                                      const float* __restrict b, int64_t p0, int64_t p1, int64_t c_now, float t,
                                      float hard) {
  const int64_t c = kC ? kC : c_now;
  RowArray<kC> kept_row(c), moved_row(c), swapped_row(c);
  float* __restrict kept = kept_row.data();
  float* __restrict moved = moved_row.data();
  float* __restrict swapped = swapped_row.data();
  for (int64_t p = p0; p < p1; ++p) {
    const float* xr = x + p * c;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      const Gate g = gate_of(fast_sigmoid(a[ch] * xr[ch] + b[ch]), t, hard);
      kept[ch] = g.w1 * xr[ch];
      moved[ch] = g.w2 * xr[ch];
    }
    swap_halves(moved, swapped, c);
    float* yr = y + p * c;
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) yr[ch] = kept[ch] + swapped[ch];
  }
}

// Forward pass 2 over rows [r0, r1) of x [n·hw, c], sample by sample (so that a sample's rows of a
// and b are found once, not per pixel).
SCCONV_SIMD_CLONES
void reconstruct_rows(const float* x, float* y, const float* a, const float* b, int64_t hw, int64_t c, int64_t r0,
                      int64_t r1, float t, float hard) {
  for (int64_t i = r0 / hw; i * hw < r1; ++i) {
    const auto [p0, p1] = example_pixels(i, hw, r0, r1);
    const float *xi = x + i * hw * c, *ai = a + i * c, *bi = b + i * c;
    float* yi = y + i * hw * c;
#define SCCONV_CALL(W) reconstruct_pixels<W>(xi, yi, ai, bi, p0, p1, c, t, hard)
    SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
  }
}

// Soft gate, backward pass 1 over pixels [p0, p1) of one sample (x, dy: [hw, c]; a, b, hr, hb: the
// sample's [c] rows): Σ dz and Σ dz·x̂ added into b1, b2 [c], with x̂ = hr·x + hb and
// dz = soft_dz(x, q, w, m), q = dy + swap(dy).
template <int64_t kC>
SCCONV_INLINE void gate_grad_pixels(const float* __restrict x, const float* __restrict dy, const float* __restrict a,
                                    const float* __restrict b, const float* __restrict hr, const float* __restrict hb,
                                    int64_t p0, int64_t p1, int64_t c_now, float t, float* __restrict b1,
                                    float* __restrict b2) {
  const int64_t c = kC ? kC : c_now;
  RowArray<kC> swapped_row(c);
  float* __restrict swapped = swapped_row.data();
  for (int64_t p = p0; p < p1; ++p) {
    const float *xr = x + p * c, *dr = dy + p * c;
    swap_halves(dr, swapped, c);
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      const float w = fast_sigmoid(a[ch] * xr[ch] + b[ch]);
      const float dz = soft_dz(xr[ch], dr[ch] + swapped[ch], w, w > t ? 1.f : 0.f);
      b1[ch] += dz;
      b2[ch] += dz * (xr[ch] * hr[ch] + hb[ch]);
    }
  }
}

SCCONV_SIMD_CLONES
void gate_grad_sums(const float* x, const float* dy, const float* a, const float* b, const float* hr, const float* hb,
                    int64_t p0, int64_t p1, int64_t c, float t, float* b1, float* b2) {
#define SCCONV_CALL(W) gate_grad_pixels<W>(x, dy, a, b, hr, hb, p0, p1, c, t, b1, b2)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// Backward pass 2 over pixels [p0, p1) of one sample: dx = W1⊙dy + W2⊙swap(dy) + e1·dz + e0 + ex·x
// (a, b, e1, e0, ex: the sample's [c] rows; e1, e0, ex all zero for the hard gate, whose dz is 0).
template <int64_t kC>
SCCONV_INLINE void input_grad_pixels(const float* __restrict x, const float* __restrict dy, float* __restrict dx,
                                     const float* __restrict a, const float* __restrict b, const float* __restrict e1,
                                     const float* __restrict e0, const float* __restrict ex, int64_t p0, int64_t p1,
                                     int64_t c_now, float t, float hard) {
  const int64_t c = kC ? kC : c_now;
  const float soft = 1.f - hard;
  RowArray<kC> swapped_row(c);
  float* __restrict swapped = swapped_row.data();
  for (int64_t p = p0; p < p1; ++p) {
    const float *xr = x + p * c, *dr = dy + p * c;
    float* out = dx + p * c;
    swap_halves(dr, swapped, c);
#pragma omp simd
    for (int64_t ch = 0; ch < c; ++ch) {
      const float w = fast_sigmoid(a[ch] * xr[ch] + b[ch]);
      const Gate g = gate_of(w, t, hard);
      const float dz = soft * soft_dz(xr[ch], dr[ch] + swapped[ch], w, g.m);
      out[ch] = g.w1 * dr[ch] + g.w2 * swapped[ch] + e1[ch] * dz + e0[ch] + ex[ch] * xr[ch];
    }
  }
}

SCCONV_SIMD_CLONES
void input_grad_rows(const float* x, const float* dy, float* dx, const float* a, const float* b, const float* e1,
                     const float* e0, const float* ex, int64_t hw, int64_t c, int64_t r0, int64_t r1, float t,
                     float hard) {
  for (int64_t i = r0 / hw; i * hw < r1; ++i) {
    const auto [p0, p1] = example_pixels(i, hw, r0, r1);
    const int64_t o = i * c, rows = i * hw * c;
#define SCCONV_CALL(W) input_grad_pixels<W>(x + rows, dy + rows, dx + rows, a + o, b + o, e1 + o, e0 + o, ex + o, \
                                            p0, p1, c, t, hard)
    SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
  }
}

}  // namespace

void sru_example_affine(const float* x, int64_t hw, int64_t c, int64_t groups, const float* gamma, const float* beta,
                        double eps, float* a, float* b) {
  const Geometry g{1, hw, c, groups};
  // Pass 1 as sru_forward's for n > 8 (one chunk a sample), without its task split: Σx | Σx² [2c].
  std::vector<float> block(2 * c);
  std::vector<double> sums(2 * c, 0.0);
  blocked_sums(0, hw, block.data(), 2 * c, sums.data(),
               [&](int64_t q0, int64_t q1, float* blk) { moment_sums(x, q0, q1, c, blk, blk + c); });
  std::vector<float> mean(groups), rstd(groups), av, bv;
  group_statistics(g, sums.data(), sums.data() + c, eps, mean.data(), rstd.data());
  double gamma_sum;
  const std::vector<float> wg = normalized_gamma(gamma, c, &gamma_sum);
  importance_affine(g, gamma, beta, wg.data(), mean.data(), rstd.data(), av, bv);
  std::copy(av.begin(), av.end(), a);
  std::copy(bv.begin(), bv.end(), b);
}

void sru_reconstruct(const float* x, float* y, const float* a, const float* b, int64_t m, int64_t c, float t,
                     float hard) {
  reconstruct_rows(x, y, a, b, m, c, 0, m, t, hard);
}

napi_value sru_forward(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), gammas = a.f32(1, "gamma"), betas = a.f32(2, "beta"), ys = a.f32(3, "y");
  Span<float> means = a.f32(4, "mean"), rstds = a.f32(5, "rstd");
  const Geometry g = read_geometry(a, 6);
  const float t = static_cast<float>(a.number(10, "threshold"));
  const bool hard = a.integer(11, "hard", 0, 1) != 0;
  const double eps = a.number(12, "epsilon");
  if (!(eps > 0)) a.fail("epsilon expects a number > 0, but received " + std::to_string(eps));
  expect_length(a, xs, g.size(), "x", "[n, hw, c]");
  expect_length(a, ys, g.size(), "y", "[n, hw, c]");
  expect_length(a, gammas, g.c, "gamma", "[c]");
  expect_length(a, betas, g.c, "beta", "[c]");
  expect_length(a, means, g.n * g.groups, "mean", "[n, groups]");
  expect_length(a, rstds, g.n * g.groups, "rstd", "[n, groups]");
  const float* x = xs.data;
  const int64_t c = g.c;

  // Pass 1: Σx and Σx² per (sample, channel), then per group.
  std::vector<double> s1, s2;
  sample_channel_sums(g, [&](int64_t i, int64_t p0, int64_t p1, float* b1, float* b2) {
    moment_sums(x + i * g.hw * c, p0, p1, c, b1, b2);
  }, s1, s2);
  group_statistics(g, s1.data(), s2.data(), eps, means.data, rstds.data);

  // Pass 2: gates and the crosswise reconstruction, one pixel (row of c) at a time.
  double gamma_sum;
  const std::vector<float> wg = normalized_gamma(gammas.data, c, &gamma_sum);
  std::vector<float> av, bv;
  importance_affine(g, gammas.data, betas.data, wg.data(), means.data, rstds.data, av, bv);
  float* y = ys.data;
#pragma omp parallel if (g.size() >= kParallelMin)
  {
    const RowRange rr = my_rows(g.n * g.hw);
    reconstruct_rows(x, y, av.data(), bv.data(), g.hw, c, rr.r0, rr.r1, t, hard ? 1.f : 0.f);
  }
  return undefined(env);
}

napi_value sru_backward(napi_env env, const Args& a) {
  Span<float> dys = a.f32(0, "dy"), xs = a.f32(1, "x"), gammas = a.f32(2, "gamma"), betas = a.f32(3, "beta");
  Span<float> means = a.f32(4, "mean"), rstds = a.f32(5, "rstd");
  Span<float> dxs = a.f32(6, "dx"), dgammas = a.f32(7, "dgamma"), dbetas = a.f32(8, "dbeta");
  const Geometry g = read_geometry(a, 9);
  const float t = static_cast<float>(a.number(13, "threshold"));
  const bool hard = a.integer(14, "hard", 0, 1) != 0;
  const Span<float>* full[] = {&dys, &xs, &dxs};
  const char* full_names[] = {"dy", "x", "dx"};
  for (int k = 0; k < 3; ++k) expect_length(a, *full[k], g.size(), full_names[k], "[n, hw, c]");
  const Span<float>* per_channel[] = {&gammas, &betas, &dgammas, &dbetas};
  const char* channel_names[] = {"gamma", "beta", "dgamma", "dbeta"};
  for (int k = 0; k < 4; ++k) expect_length(a, *per_channel[k], g.c, channel_names[k], "[c]");
  expect_length(a, means, g.n * g.groups, "mean", "[n, groups]");
  expect_length(a, rstds, g.n * g.groups, "rstd", "[n, groups]");
  const float *dy = dys.data, *x = xs.data, *gamma = gammas.data, *beta = betas.data;
  const float *mean = means.data, *rstd = rstds.data;
  const int64_t c = g.c, cg = g.per_group();
  double gamma_sum;
  const std::vector<float> wg = normalized_gamma(gamma, c, &gamma_sum);
  std::vector<float> av, bv;
  importance_affine(g, gamma, beta, wg.data(), mean, rstd, av, bv);
  // Pass 1 (soft gate): P = Σ dz and Q = Σ dz·x̂ per (sample, channel); then dγ, dβ and the
  // per-(sample, channel) constants of dx.
  std::vector<float> e1(g.n * c, 0.f), e0(g.n * c, 0.f), ex(g.n * c, 0.f);
  if (hard) {
    for (int64_t ch = 0; ch < c; ++ch) dgammas.data[ch] = dbetas.data[ch] = 0.f;
  } else {
    // x̂ = x·rstd − mean·rstd, spread to (sample, channel).
    std::vector<float> hr(g.n * c), hb(g.n * c);
    for (int64_t k = 0; k < g.n * c; ++k) {
      const int64_t s = (k / c) * g.groups + (k % c) / cg;
      hr[k] = rstd[s];
      hb[k] = -mean[s] * rstd[s];
    }
    std::vector<double> P, Q;
    sample_channel_sums(g, [&](int64_t i, int64_t p0, int64_t p1, float* b1, float* b2) {
      const int64_t o = i * c;
      gate_grad_sums(x + i * g.hw * c, dy + i * g.hw * c, av.data() + o, bv.data() + o, hr.data() + o, hb.data() + o,
                     p0, p1, c, t, b1, b2);
    }, P, Q);
    std::vector<double> A(c, 0.0), B(c, 0.0), dwg(c);
    for (int64_t i = 0; i < g.n; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) { A[ch] += P[i * c + ch]; B[ch] += Q[i * c + ch]; }
    }
    double D = 0;
    for (int64_t ch = 0; ch < c; ++ch) {
      dwg[ch] = gamma[ch] * B[ch] + beta[ch] * A[ch];
      D += dwg[ch] * wg[ch];
    }
    for (int64_t ch = 0; ch < c; ++ch) {
      dbetas.data[ch] = static_cast<float>(wg[ch] * A[ch]);
      dgammas.data[ch] = static_cast<float>(wg[ch] * B[ch] + (dwg[ch] - D) / gamma_sum);
    }
    const double count = static_cast<double>(g.hw * cg);
    for (int64_t i = 0; i < g.n; ++i) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const int64_t s = i * g.groups + grp;
        double m1 = 0, m2 = 0;
        for (int64_t ch = grp * cg; ch < (grp + 1) * cg; ++ch) {
          const double k = static_cast<double>(wg[ch]) * gamma[ch];
          m1 += k * P[i * c + ch];
          m2 += k * Q[i * c + ch];
        }
        m1 /= count;
        m2 /= count;
        // rstd·(k·dz − m1 − x̂·m2) = e1·dz + e0 + ex·x with x̂ = (x − mean)·rstd.
        const double r = rstd[s];
        for (int64_t ch = grp * cg; ch < (grp + 1) * cg; ++ch) {
          e1[i * c + ch] = static_cast<float>(r * wg[ch] * gamma[ch]);
          e0[i * c + ch] = static_cast<float>(-r * m1 + r * r * m2 * mean[s]);
          ex[i * c + ch] = static_cast<float>(-r * r * m2);
        }
      }
    }
  }

  // Pass 2: dx = W1⊙dy + W2⊙swap(dy) (+ the GroupNorm part for the soft gate).
#pragma omp parallel if (g.size() >= kParallelMin)
  {
    const RowRange rr = my_rows(g.n * g.hw);
    input_grad_rows(x, dy, dxs.data, av.data(), bv.data(), e1.data(), e0.data(), ex.data(), g.hw, c, rr.r0, rr.r1, t,
                    hard ? 1.f : 0.f);
  }
  return undefined(env);
}

}  // namespace scconv
