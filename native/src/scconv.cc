// SCConv's forward pass for inference (SRU then CRU, paper Eq. 1–9) as one kernel that takes each
// example through every step while that example's data stays in the core's cache. src/kernels/scconv.ts
// calls:
//
//   scconvInference(x, gamma, beta, w1, w2, pwc2, filter, bias, y, dims, threshold, epsilon)
//     dims = Int32Array [n, h, w, c, groups, hard, up, a, b, k, fusion]; x, y [n, h, w, c].
//     SRU (sru.cc): gamma, beta [c] (GroupNorm over `groups`), the gate `hard` (0 soft, 1 hard) with
//     threshold t, epsilon. CRU (cru.cc): w1 [up, a], w2 [c − up, b], pwc2 [b, c − b] (the squeezes
//     and PWC2), filter [k, k, a, c] (the GWC with PWC1 folded in, built by CRU_FILTER: Y1 = a k×k
//     'same' conv of upS plus bias [c]), fusion 0 pairwise or 1 global (Eq. 8).
//
// Per example, on one thread: the SRU's GroupNorm statistics (pass 1 over x); then, in blocks of 64
// pixels, the SRU's gates and reconstruction and the CRU's squeezes and PWC2 (pass 2, the SRU's output
// never leaves a 64-pixel buffer); the Y1 conv as a direct loop over the zero-padded upS; the fuse
// (pooling, β, weighted sum) into y. The composed path (SCConvSRU, SCConvCRUSqueeze, a oneDNN conv,
// SCConvCRUFuse; src/layers/cru.ts) writes four full-batch intermediates and reads them back, at
// batch 128 and 32×32×16 8 MB each; here an example's intermediates (about 3.5·c floats a pixel) stay
// in L2. The maths is that of the four kernels, in their order of summation. No gradient:
// src/layers/scconv.ts dispatches here only outside gradient computations.

#include "fast_math.h"
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace scconv {
namespace {

// The call's sizes (dims, in this order).
struct Dims {
  int64_t n, h, w, c, groups, hard, up, a, b, k, fusion;
  int64_t pixels() const { return h * w; }
  int64_t rest() const { return c - b; }  // PWC2's output channels
  int64_t padded_width() const { return w + k - 1; }
  int64_t padded_size() const { return (h + k - 1) * padded_width() * a; }
};
constexpr int kDims = 11;

Dims read_dims(const Args& a, size_t i) {
  Span<int32_t> v = a.i32(i, "dims");
  if (v.size != kDims) {
    a.fail("dims expects an Int32Array [n, h, w, c, groups, hard, up, a, b, k, fusion] of " + std::to_string(kDims) +
           " numbers, but received one of length " + std::to_string(v.size));
  }
  const auto at = [&](int k, const char* name, int64_t lo, int64_t hi) {
    if (v.data[k] < lo || v.data[k] > hi) {
      a.fail(std::string("dims.") + name + " expects a value in [" + std::to_string(lo) + ", " + std::to_string(hi) +
             "], but received " + std::to_string(v.data[k]));
    }
    return static_cast<int64_t>(v.data[k]);
  };
  Dims d{};
  d.n = at(0, "n", 0, kMaxSize);
  d.h = at(1, "h", 1, kMaxSize);
  d.w = at(2, "w", 1, kMaxSize);
  d.c = at(3, "c", 2, kMaxSize);
  d.groups = at(4, "groups", 1, d.c);
  d.hard = at(5, "hard", 0, 1);
  d.up = at(6, "up", 1, d.c - 1);
  d.a = at(7, "a", 1, kMaxSize);
  d.b = at(8, "b", 1, d.c - 1);
  d.k = at(9, "k", 1, kMaxSize);
  d.fusion = at(10, "fusion", 0, 1);
  if (d.c % 2 != 0 || d.c % d.groups != 0) {
    a.fail("dims.c expects an even channel count divisible by groups = " + std::to_string(d.groups) + ", but received " +
           std::to_string(d.c));
  }
  if (d.k % 2 == 0) a.fail("dims.k expects an odd kernel size ('same' padding), but received " + std::to_string(d.k));
  product(a, {d.n, d.h, d.w, d.c}, "x");
  product(a, {d.k, d.k, d.a, d.c}, "filter");
  product(a, {d.h + d.k, d.w + d.k, d.a}, "the padded upS");
  return d;
}

// The Y1 conv's inner block: kP consecutive output pixels of a k×k conv, stride 1, out [kP, c] from
// the padded input at `in` (its top-left tap; row stride wp pixels of ci channels) and the filter
// [k, k, ci, c]. Output channels run along the vector lanes, kP·c accumulators in registers for
// the CIFAR widths.
constexpr int64_t kConvBlock = 4;
template <int64_t kC, int64_t kP>
SCCONV_INLINE void conv_block(const float* __restrict in, const float* __restrict filter, float* __restrict out,
                              int64_t wp, int64_t k, int64_t ci, int64_t c_now, float* __restrict acc) {
  const int64_t c = kC ? kC : c_now;
#pragma omp simd
  for (int64_t q = 0; q < kP * c; ++q) acc[q] = 0.f;
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* src = in + (ky * wp + kx) * ci;
      const float* f = filter + (ky * k + kx) * ci * c;
      for (int64_t i = 0; i < ci; ++i) {
        for (int64_t p = 0; p < kP; ++p) {
          const float v = src[p * ci + i];
#pragma omp simd
          for (int64_t o = 0; o < c; ++o) acc[p * c + o] += v * f[i * c + o];
        }
      }
    }
  }
#pragma omp simd
  for (int64_t q = 0; q < kP * c; ++q) out[q] = acc[q];
}

// out [h, w, c] = the k×k 'same' conv of one example from its zero-padded input pad [h + k − 1,
// w + k − 1, ci], blocks of kConvBlock pixels along each row and single pixels for the rest.
template <int64_t kC>
SCCONV_INLINE void conv_same_pixels(const float* pad, const float* filter, float* out, int64_t h, int64_t w, int64_t k,
                                    int64_t ci, int64_t c_now) {
  const int64_t c = kC ? kC : c_now, wp = w + k - 1;
  RowArray<kC * kConvBlock> acc(kConvBlock * c);
  for (int64_t y = 0; y < h; ++y) {
    int64_t x = 0;
    for (; x + kConvBlock <= w; x += kConvBlock) {
      conv_block<kC, kConvBlock>(pad + (y * wp + x) * ci, filter, out + (y * w + x) * c, wp, k, ci, c, acc.data());
    }
    for (; x < w; ++x) conv_block<kC, 1>(pad + (y * wp + x) * ci, filter, out + (y * w + x) * c, wp, k, ci, c, acc.data());
  }
}

SCCONV_SIMD_CLONES
void conv_same(const float* pad, const float* filter, float* out, int64_t h, int64_t w, int64_t k, int64_t ci,
               int64_t c) {
#define SCCONV_CALL(W) conv_same_pixels<W>(pad, filter, out, h, w, k, ci, c)
  SCCONV_ROW_WIDTHS(SCCONV_CALL)
#undef SCCONV_CALL
}

// The arrays of one call (shapes in the header).
struct Arrays {
  const float *x, *gamma, *beta, *w1, *w2, *pwc2, *filter, *bias;
  float* y;
};

// One thread's working arrays, sized for one example; pad's border stays zero (only its interior
// is written).
struct Scratch {
  explicit Scratch(const Dims& d)
      : za(d.c), zb(d.c), block(64 * d.c), up_s(d.pixels() * d.a), low_s(d.pixels() * d.b),
        y2p(d.pixels() * d.rest()), pad(d.padded_size(), 0.f), y1(d.pixels() * d.c) {}
  std::vector<float> za, zb, block, up_s, low_s, y2p, pad, y1;
};

// SCConv of example i into y.
void scconv_example(const Arrays& v, const Dims& d, float t, double eps, int64_t i, Scratch& s) {
  const int64_t p = d.pixels(), c = d.c;
  const float* x = v.x + i * p * c;
  // SRU pass 1, then pass 2 and the CRU's 1×1 convs, 64 pixels at a time.
  sru_example_affine(x, p, c, d.groups, v.gamma, v.beta, eps, s.za.data(), s.zb.data());
  for (int64_t q0 = 0; q0 < p; q0 += 64) {
    const int64_t m = std::min<int64_t>(64, p - q0);
    sru_reconstruct(x + q0 * c, s.block.data(), s.za.data(), s.zb.data(), m, c, t, static_cast<float>(d.hard));
    cru_squeeze_example(s.block.data(), m, c, d.up, d.a, d.b, v.w1, v.w2, v.pwc2, s.up_s.data() + q0 * d.a,
                        s.low_s.data() + q0 * d.b, s.y2p.data() + q0 * d.rest());
  }
  // Y1 (Eq. 5 without its bias) from the zero-padded upS.
  const int64_t r = (d.k - 1) / 2, wp = d.padded_width();
  for (int64_t row = 0; row < d.h; ++row) {
    std::memcpy(s.pad.data() + ((row + r) * wp + r) * d.a, s.up_s.data() + row * d.w * d.a, sizeof(float) * d.w * d.a);
  }
  conv_same(s.pad.data(), v.filter, s.y1.data(), d.h, d.w, d.k, d.a, c);
  // Eq. 7–9 with Y2 = [PWC2 | lowS] (Eq. 6).
  cru_fuse_example(s.y1.data(), v.bias, s.y2p.data(), s.low_s.data(), p, c, d.b, static_cast<int>(d.fusion),
                   v.y + i * p * c);
}

}  // namespace

napi_value scconv_inference(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), gammas = a.f32(1, "gamma"), betas = a.f32(2, "beta"), w1s = a.f32(3, "w1"),
              w2s = a.f32(4, "w2"), pwc2s = a.f32(5, "pwc2"), filters = a.f32(6, "filter"), biases = a.f32(7, "bias"),
              ys = a.f32(8, "y");
  const Dims d = read_dims(a, 9);
  const float t = static_cast<float>(a.number(10, "threshold"));
  const double eps = a.number(11, "epsilon");
  if (!(eps > 0)) a.fail("epsilon expects a number > 0, but received " + std::to_string(eps));
  const int64_t size = d.n * d.pixels() * d.c;
  expect_length(a, xs, size, "x", "[n, h, w, c]");
  expect_length(a, ys, size, "y", "[n, h, w, c]");
  expect_length(a, gammas, d.c, "gamma", "[c]");
  expect_length(a, betas, d.c, "beta", "[c]");
  expect_length(a, w1s, product(a, {d.up, d.a}, "w1"), "w1", "[up, a]");
  expect_length(a, w2s, product(a, {d.c - d.up, d.b}, "w2"), "w2", "[c − up, b]");
  expect_length(a, pwc2s, product(a, {d.b, d.rest()}, "pwc2"), "pwc2", "[b, c − b]");
  expect_length(a, filters, d.k * d.k * d.a * d.c, "filter", "[k, k, a, c]");
  expect_length(a, biases, d.c, "bias", "[c]");
  const Arrays v{xs.data, gammas.data, betas.data, w1s.data, w2s.data, pwc2s.data, filters.data, biases.data, ys.data};
#pragma omp parallel if (d.n > 1)
  {
    Scratch s(d);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < d.n; ++i) scconv_example(v, d, t, eps, i, s);
  }
  return undefined(env);
}

}  // namespace scconv
