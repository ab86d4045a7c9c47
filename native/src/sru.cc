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
//
// The backward, with q = dy + swap(dy) (src/layers/sru.ts derives the gate part):
//   dx_gate = W1⊙dy + W2⊙swap(dy);  dw = (1 − m)⊙x⊙q (soft), 0 (hard);  dz = dw·w(1 − w).
//   z = w_γ·u, u = γ·x̂ + β:  dβ_c = w_γc·Σ dz,  dγ_c(through u) = w_γc·Σ dz·x̂,  dx̂ = dz·k, k = w_γ·γ,
//   dw_γc = Σ dz·u = γ_c·Σ dz·x̂ + β_c·Σ dz;  w_γ = γ/S, S = Σγ: dγ_j += (dw_γj − Σ_c dw_γc·w_γc)/S,
//   (sums over samples and pixels). GroupNorm backward per (sample, group) of K = hw·c/groups values:
//   dx_gn = rstd·(dx̂ − mean_g(dx̂) − x̂·mean_g(dx̂·x̂)), with mean_g(dx̂) = Σ_{c∈g} k_c·P_c / K and
//   mean_g(dx̂·x̂) = Σ_{c∈g} k_c·Q_c / K from the per-(sample, channel) sums P = Σ dz, Q = Σ dz·x̂.
//   So dx = dx_gate + rstd·k·dz + e0 + ex·x with per-(sample, channel) constants e0, ex.

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

// Per-(sample, channel) sums over the pixels of two quantities that row(i, p, b1, b2) adds for
// pixel p of sample i into b1[c], b2[c]: s1, s2 [n, c]. Each sample's pixels are cut into a number
// of chunks fixed by the shape (so results do not depend on the thread count); a chunk adds 64
// pixels at a time in float, then in double.
template <typename Row>
void sample_channel_sums(const Geometry& g, Row row, std::vector<double>& s1, std::vector<double>& s2) {
  const int64_t chunks = std::min<int64_t>(g.hw, std::max<int64_t>(1, 16 / std::max<int64_t>(g.n, 1)));
  const int64_t tasks = g.n * chunks, c = g.c;
  std::vector<double> partial(static_cast<size_t>(tasks) * 2 * c, 0.0);
#pragma omp parallel for schedule(static) if (g.size() >= kParallelMin)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t i = t / chunks, k = t % chunks;
    const int64_t p0 = g.hw * k / chunks, p1 = g.hw * (k + 1) / chunks;
    std::vector<float> b1(c, 0.f), b2(c, 0.f);
    double* a1 = partial.data() + t * 2 * c;
    double* a2 = a1 + c;
    for (int64_t p = p0; p < p1; ++p) {
      row(i, p, b1.data(), b2.data());
      if ((p - p0) % 64 == 63 || p + 1 == p1) {
        for (int64_t ch = 0; ch < c; ++ch) { a1[ch] += b1[ch]; a2[ch] += b2[ch]; b1[ch] = b2[ch] = 0.f; }
      }
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

// The gates of one element from its importance w (Eq. 3): W1, W2 and m = [w > t].
struct Gate {
  float w1, w2, m;
};
inline Gate gate_of(float w, float t, bool hard) {
  const float m = w > t ? 1.f : 0.f;
  if (hard) return {m, 1.f - m, m};
  const float w2 = (1.f - m) * w;
  return {w2 + m, w2, m};
}

inline float sigmoid(float z) { return 1.f / (1.f + std::exp(-z)); }

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

}  // namespace

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
  const int64_t c = g.c, half = c / 2, cg = g.per_group();

  // Pass 1: Σx and Σx² per (sample, channel), then per group.
  std::vector<double> s1, s2;
  sample_channel_sums(g, [&](int64_t i, int64_t p, float* b1, float* b2) {
    const float* xr = x + (i * g.hw + p) * c;
    for (int64_t ch = 0; ch < c; ++ch) { b1[ch] += xr[ch]; b2[ch] += xr[ch] * xr[ch]; }
  }, s1, s2);
  const double count = static_cast<double>(g.hw * cg);
  for (int64_t s = 0; s < g.n * g.groups; ++s) {
    double sum = 0, sq = 0;
    for (int64_t ch = 0; ch < cg; ++ch) { sum += s1[s * cg + ch]; sq += s2[s * cg + ch]; }
    const double mu = sum / count, var = std::max(sq / count - mu * mu, 0.0);
    means.data[s] = static_cast<float>(mu);
    rstds.data[s] = static_cast<float>(1.0 / std::sqrt(var + eps));
  }

  // Pass 2: gates and the crosswise reconstruction, one pixel (row of c) at a time.
  double gamma_sum;
  const std::vector<float> wg = normalized_gamma(gammas.data, c, &gamma_sum);
  std::vector<float> av, bv;
  importance_affine(g, gammas.data, betas.data, wg.data(), means.data, rstds.data, av, bv);
  float* y = ys.data;
#pragma omp parallel if (g.size() >= kParallelMin)
  {
    std::vector<float> gated2(c);  // W2⊙x of the current pixel
    float* w2x = gated2.data();
#pragma omp for schedule(static)
    for (int64_t r = 0; r < g.n * g.hw; ++r) {
      const float* xr = x + r * c;
      const float* ar = av.data() + (r / g.hw) * c;
      const float* br = bv.data() + (r / g.hw) * c;
      float* yr = y + r * c;
#pragma omp simd
      for (int64_t ch = 0; ch < c; ++ch) {
        const Gate gt = gate_of(sigmoid(ar[ch] * xr[ch] + br[ch]), t, hard);
        yr[ch] = gt.w1 * xr[ch];
        w2x[ch] = gt.w2 * xr[ch];
      }
      for (int64_t ch = 0; ch < half; ++ch) { yr[ch] += w2x[ch + half]; yr[ch + half] += w2x[ch]; }
    }
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
  const int64_t c = g.c, half = c / 2, cg = g.per_group();
  double gamma_sum;
  const std::vector<float> wg = normalized_gamma(gamma, c, &gamma_sum);
  std::vector<float> av, bv;
  importance_affine(g, gamma, beta, wg.data(), mean, rstd, av, bv);
  // The swap partner's dy of channel ch in the row dr.
  auto swapped = [half](const float* dr, int64_t ch) { return ch < half ? dr[ch + half] : dr[ch - half]; };

  // dz = (1 − m)·x·q·w(1 − w) for the soft gate (0 for the hard one), with its gates.
  auto dz_of = [&](const float* ar, const float* br, const float* xr, const float* dr, int64_t ch, Gate* gt) {
    const float w = sigmoid(ar[ch] * xr[ch] + br[ch]);
    *gt = gate_of(w, t, hard);
    return hard ? 0.f : (1.f - gt->m) * xr[ch] * (dr[ch] + swapped(dr, ch)) * w * (1.f - w);
  };

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
    sample_channel_sums(g, [&](int64_t i, int64_t p, float* b1, float* b2) {
      const int64_t r = i * g.hw + p;
      const float *xr = x + r * c, *dr = dy + r * c, *ar = av.data() + i * c, *br = bv.data() + i * c;
      const float *hrr = hr.data() + i * c, *hbr = hb.data() + i * c;
      for (int64_t ch = 0; ch < c; ++ch) {
        Gate gt;
        const float dz = dz_of(ar, br, xr, dr, ch, &gt);
        b1[ch] += dz;
        b2[ch] += dz * (xr[ch] * hrr[ch] + hbr[ch]);
      }
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
  float* dx = dxs.data;
#pragma omp parallel for schedule(static) if (g.size() >= kParallelMin)
  for (int64_t r = 0; r < g.n * g.hw; ++r) {
    const int64_t i = r / g.hw;
    const float *xr = x + r * c, *dr = dy + r * c, *ar = av.data() + i * c, *br = bv.data() + i * c;
    const float *e1r = e1.data() + i * c, *e0r = e0.data() + i * c, *exr = ex.data() + i * c;
    float* o = dx + r * c;
    for (int64_t ch = 0; ch < c; ++ch) {
      Gate gt;
      const float dz = dz_of(ar, br, xr, dr, ch, &gt);
      o[ch] = gt.w1 * dr[ch] + gt.w2 * swapped(dr, ch) + e1r[ch] * dz + e0r[ch] + exr[ch] * xr[ch];
    }
  }
  return undefined(env);
}

}  // namespace scconv
