// Batch norm over the last (channel) axis: the forward pass in one pass and its gradient in two
// (per-channel sums, then dx). src/kernels/batch_norm.ts calls:
//
//   batchNorm(x, mean, variance, offset?, scale?, eps, out, c, act)
//     out = act((x - mean) * scale / sqrt(variance + eps) + offset); act 0 none, 1 relu.
//   batchNormGrad(dy, x, mean, variance, scale?, eps, c, dx?, dmean?, dvariance?, dscale?, doffset?, full)
//     The gradients of FusedBatchNorm with respect to each of its inputs (mean and variance treated
//     as inputs, exactly as tfjs-core's gradient does), in two passes over dy and x.
//     full = 1: mean and variance are the batch statistics of x (biased variance), and dx is the
//     whole training-mode gradient through them too:
//       dx = g·r·(dy − Σdy/n − (x − mean)·r²·Σ(dy·(x − mean))/n),  r = 1/√(variance + eps),
//     while dmean and dvariance come out as zeros (their paths are already inside dx).

#include "fast_math.h"
#include "kernels.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace scconv {
namespace {

// A per-channel array and its name (each must hold c values, or be null where optional).
using PerChannel = std::pair<Span<float>, const char*>;

// c ≥ 1 and x [rows, c]: returns rows.
int64_t rows_of(const Args& a, const Span<float>& x, int64_t c, const char* name) {
  if (x.size % c != 0) {
    a.fail(std::string(name) + " expects a length that is a multiple of the channel count " + std::to_string(c) +
           ", but received an array of " + std::to_string(x.size));
  }
  return x.size / c;
}

// Rows [r0, r1) of dx = k·dy + b + q·(x − mean) (full) or k·dy, per channel; templated on the width
// and built per CPU like channel_sums (reduce.cc).
template <int64_t kC>
SCCONV_INLINE void input_grad_pixels(const float* __restrict dy, const float* __restrict x,
                                     const float* __restrict mean, const float* __restrict k,
                                     const float* __restrict b, const float* __restrict q, float* __restrict dx,
                                     int64_t r0, int64_t r1, int64_t c_now, bool full) {
  const int64_t c = kC ? kC : c_now;
  for (int64_t r = r0; r < r1; ++r) {
    const float *g = dy + r * c, *xr = x + r * c;
    float* o = dx + r * c;
    if (full) {
#pragma omp simd
      for (int64_t i = 0; i < c; ++i) o[i] = g[i] * k[i] + b[i] + q[i] * (xr[i] - mean[i]);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < c; ++i) o[i] = g[i] * k[i];
    }
  }
}

SCCONV_SIMD_CLONES
void input_grad_rows(const float* dy, const float* x, const float* mean, const float* k, const float* b,
                     const float* q, float* dx, int64_t r0, int64_t r1, int64_t c, bool full) {
#define SCCONV_CALL(W) input_grad_pixels<W>(dy, x, mean, k, b, q, dx, r0, r1, c, full)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

}  // namespace

napi_value batch_norm(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), means = a.f32(1, "mean"), vars = a.f32(2, "variance");
  Span<float> offsets = a.f32_or_null(3, "offset"), scales = a.f32_or_null(4, "scale");
  const float eps = static_cast<float>(a.number(5, "epsilon"));
  Span<float> outs = a.f32(6, "out");
  const int64_t c = a.integer(7, "channels", 1);  // ≥ 1: the rows are x's length / c
  const int act = static_cast<int>(a.integer(8, "act", 0, 1));
  const int64_t rows = rows_of(a, xs, c, "x");
  const PerChannel per_channel[] = {{means, "mean"}, {vars, "variance"}, {offsets, "offset"}, {scales, "scale"}};
  for (const auto& [s, name] : per_channel) expect_length(a, s, c, name, "[channels]");
  expect_length(a, outs, xs.size, "out", "the length of x");
  const float *x = xs.data, *mean = means.data, *var = vars.data, *offset = offsets.data, *scale = scales.data;
  float* out = outs.data;
  std::vector<float> mul(c), add(c);
  for (int64_t i = 0; i < c; ++i) {
    mul[i] = (scale ? scale[i] : 1.f) / std::sqrt(var[i] + eps);
    add[i] = (offset ? offset[i] : 0.f) - mean[i] * mul[i];
  }
  const float* mp = mul.data();
  const float* ap = add.data();
#pragma omp parallel for schedule(static) if (xs.size >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* o = out + r * c;
    if (act == 1) {
      for (int64_t i = 0; i < c; ++i) { float v = xr[i] * mp[i] + ap[i]; o[i] = v > 0.f ? v : 0.f; }
    } else {
      for (int64_t i = 0; i < c; ++i) o[i] = xr[i] * mp[i] + ap[i];
    }
  }
  return undefined(env);
}

napi_value batch_norm_grad(napi_env env, const Args& a) {
  Span<float> dys = a.f32(0, "dy"), xs = a.f32(1, "x"), means = a.f32(2, "mean"), vars = a.f32(3, "variance");
  Span<float> scales = a.f32_or_null(4, "scale");
  const float eps = static_cast<float>(a.number(5, "epsilon"));
  const int64_t c = a.integer(6, "channels", 1);
  Span<float> dxs = a.f32_or_null(7, "dx"), dmeans = a.f32_or_null(8, "dmean"), dvars = a.f32_or_null(9, "dvariance");
  Span<float> dscales = a.f32_or_null(10, "dscale"), doffsets = a.f32_or_null(11, "doffset");
  const bool full = a.count() > 12 && a.integer(12, "full", 0, 1) != 0;
  const int64_t rows = rows_of(a, dys, c, "dy");
  // The batch statistics of no rows are undefined (full divides by the row count).
  if (full && rows == 0) a.fail("dy expects at least one row of channels when full = 1, but received an empty array");
  expect_length(a, xs, dys.size, "x", "the length of dy");
  expect_length(a, dxs, dys.size, "dx", "the length of dy");
  const PerChannel per_channel[] = {{means, "mean"},   {vars, "variance"},   {scales, "scale"},  {dmeans, "dmean"},
                                   {dvars, "dvariance"}, {dscales, "dscale"}, {doffsets, "doffset"}};
  for (const auto& [s, name] : per_channel) expect_length(a, s, c, name, "[channels]");
  const float *dy = dys.data, *x = xs.data, *mean = means.data, *var = vars.data, *scale = scales.data;
  float *dx = dxs.data, *dmean = dmeans.data, *dvar = dvars.data, *dscale = dscales.data, *doffset = doffsets.data;
  std::vector<double> s1(c), s2(c);
  channel_sums(dy, x, mean, rows, c, s1.data(), s2.data());
  // dx = k·dy + b + q·(x − mean), per channel (b = q = 0 unless full).
  std::vector<float> k(c), b(c, 0.f), q(c, 0.f);
  for (int64_t i = 0; i < c; ++i) {
    const double g = scale ? scale[i] : 1.0;
    const double r = 1.0 / std::sqrt(static_cast<double>(var[i]) + eps);
    k[i] = static_cast<float>(g * r);
    if (full) {
      b[i] = static_cast<float>(-g * r * s1[i] / rows);
      q[i] = static_cast<float>(-g * r * r * r * s2[i] / rows);
    }
    if (dmean) dmean[i] = full ? 0.f : static_cast<float>(-r * g * s1[i]);
    if (dvar) dvar[i] = full ? 0.f : static_cast<float>(-0.5 * r * r * r * g * s2[i]);
    if (dscale) dscale[i] = static_cast<float>(r * s2[i]);
    if (doffset) doffset[i] = static_cast<float>(s1[i]);
  }
  if (dx) {
#pragma omp parallel if (dys.size >= kParallelMin)
    {
      const RowRange rr = my_rows(rows);
      input_grad_rows(dy, x, mean, k.data(), b.data(), q.data(), dx, rr.r0, rr.r1, c, full);
    }
  }
  return undefined(env);
}

}  // namespace scconv
