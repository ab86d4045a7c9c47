// Elementwise ops as OpenMP loops (oneDNN uses the same thread pool, so there is no
// oversubscription). src/kernels/elementwise.ts calls:
//
//   binary(op, a, b, out, d0, d1, d2, a0, a1, a2, b0, b1, b2)
//     out[i0, i1, i2] = a[i0·a0 + i1·a1 + i2·a2] OP b[i0·b0 + i1·b1 + i2·b2], out [d0·d1·d2]:
//     every broadcast a NHWC net needs (same shape, per-channel vector, per-example-and-channel
//     [N,1,1,C], per-pixel, scalar) as three blocks of axes with a stride per operand (0 = broadcast).
//   unary(op, x, out, alpha)      out = OP(x), alpha for step, scale, leaky relu.
//   addN(out, a0, a1, ...)        out = the sum of 1 to 15 same-length arrays.

#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace scconv {
namespace {

enum BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kReluGrad, kSigmoidGrad, kBinaryOps };

template <int OP>
inline float apply(float a, float b) {
  if (OP == kAdd) return a + b;
  if (OP == kSub) return a - b;
  if (OP == kMul) return a * b;
  if (OP == kDiv) return a / b;
  if (OP == kMax) return a > b || std::isnan(a) ? a : b;
  if (OP == kMin) return a < b || std::isnan(a) ? a : b;
  if (OP == kSquaredDiff) return (a - b) * (a - b);
  if (OP == kReluGrad) return b > 0.f ? a : 0.f;  // a = dy, b = relu input (or output)
  if (OP == kSigmoidGrad) return a * b * (1.f - b);  // a = dy, b = sigmoid output
  return 0.f;
}

template <int OP>
void binary_loop(const float* a, const float* b, float* out, int64_t d0, int64_t d1, int64_t d2,
                 const int64_t* as, const int64_t* bs) {
  const int64_t total = d0 * d1 * d2;
  const int64_t ai = as[2], bi = bs[2];
  if (as[0] == d1 * d2 && as[1] == d2 && ai == 1 && bs[0] == d1 * d2 && bs[1] == d2 && bi == 1) {
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t k = 0; k < total; ++k) out[k] = apply<OP>(a[k], b[k]);
    return;
  }
  const int64_t rows = d0 * d1;
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t i0 = row / d1, i1 = row % d1;
    const float* ar = a + i0 * as[0] + i1 * as[1];
    const float* br = b + i0 * bs[0] + i1 * bs[1];
    float* r = out + row * d2;
    if (ai == 1 && bi == 0) {
      const float bv = br[0];
      for (int64_t i = 0; i < d2; ++i) r[i] = apply<OP>(ar[i], bv);
    } else if (ai == 0 && bi == 1) {
      const float av = ar[0];
      for (int64_t i = 0; i < d2; ++i) r[i] = apply<OP>(av, br[i]);
    } else if (ai == 1 && bi == 1) {
      for (int64_t i = 0; i < d2; ++i) r[i] = apply<OP>(ar[i], br[i]);
    } else {
      for (int64_t i = 0; i < d2; ++i) r[i] = apply<OP>(ar[i * ai], br[i * bi]);
    }
  }
}

// The last element an operand with strides s reads over dims d (−1 when nothing is read).
int64_t last_index(const int64_t* d, const int64_t* s) {
  if (d[0] == 0 || d[1] == 0 || d[2] == 0) return -1;
  return (d[0] - 1) * s[0] + (d[1] - 1) * s[1] + (d[2] - 1) * s[2];
}

enum UnaryOp { kRelu, kRelu6, kStep, kNeg, kSquare, kSqrt, kRsqrt, kExp, kLog, kSigmoid, kTanh, kAbs,
               kScale, kLeakyRelu, kElu, kUnaryOps };

template <int OP>
inline float unary_op(float x, float alpha) {
  if (OP == kRelu) return x > 0.f ? x : (std::isnan(x) ? x : 0.f);
  if (OP == kRelu6) return std::isnan(x) ? x : std::min(std::max(x, 0.f), 6.f);
  if (OP == kStep) return std::isnan(x) ? x : (x > 0.f ? 1.f : alpha);
  if (OP == kNeg) return -x;
  if (OP == kSquare) return x * x;
  if (OP == kSqrt) return std::sqrt(x);
  if (OP == kRsqrt) return 1.f / std::sqrt(x);
  if (OP == kExp) return std::exp(x);
  if (OP == kLog) return std::log(x);
  if (OP == kSigmoid) return 1.f / (1.f + std::exp(-x));
  if (OP == kTanh) return std::tanh(x);
  if (OP == kAbs) return std::fabs(x);
  if (OP == kScale) return x * alpha;
  if (OP == kLeakyRelu) return x < 0.f ? alpha * x : x;
  if (OP == kElu) return x >= 0.f ? x : std::expm1(x);
  return 0.f;
}

template <int OP>
void unary_loop(const float* x, float* out, int64_t n, float alpha) {
  // simd: with -fno-math-errno GCC calls glibc's vector expf/logf/tanhf (libmvec) here. The `if`
  // names `parallel`: an unqualified one applies to `simd` too, and then every tensor below
  // kParallelMin (all of batch-1 inference) ran the scalar loop, one branch per element.
#pragma omp parallel for simd schedule(static) if (parallel : n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) out[k] = unary_op<OP>(x[k], alpha);
}

}  // namespace

napi_value binary(napi_env env, const Args& a) {
  const int op = static_cast<int>(a.integer(0, "op", 0, kBinaryOps - 1));
  Span<float> x = a.f32(1, "a"), y = a.f32(2, "b"), out = a.f32(3, "out");
  const int64_t d[3] = {a.integer(4, "d0", 0), a.integer(5, "d1", 0), a.integer(6, "d2", 0)};
  const int64_t as[3] = {a.integer(7, "a0", 0), a.integer(8, "a1", 0), a.integer(9, "a2", 0)};
  const int64_t bs[3] = {a.integer(10, "b0", 0), a.integer(11, "b1", 0), a.integer(12, "b2", 0)};
  expect_length(a, out, product(a, {d[0], d[1], d[2]}, "out"), "out", "d0·d1·d2");
  expect_reach(a, x, last_index(d, as), "a");
  expect_reach(a, y, last_index(d, bs), "b");
  if (out.size == 0) return undefined(env);  // the row loops would read a broadcast operand's [0]
  switch (op) {
#define CASE(K) case K: binary_loop<K>(x.data, y.data, out.data, d[0], d[1], d[2], as, bs); break;
    CASE(kAdd) CASE(kSub) CASE(kMul) CASE(kDiv) CASE(kMax) CASE(kMin) CASE(kSquaredDiff) CASE(kReluGrad)
    CASE(kSigmoidGrad)
#undef CASE
  }
  return undefined(env);
}

napi_value unary(napi_env env, const Args& a) {
  const int op = static_cast<int>(a.integer(0, "op", 0, kUnaryOps - 1));
  Span<float> x = a.f32(1, "x"), out = a.f32(2, "out");
  const float alpha = static_cast<float>(a.number(3, "alpha"));
  expect_length(a, out, x.size, "out", "the length of x");
  switch (op) {
#define CASE(K) case K: unary_loop<K>(x.data, out.data, x.size, alpha); break;
    CASE(kRelu) CASE(kRelu6) CASE(kStep) CASE(kNeg) CASE(kSquare) CASE(kSqrt) CASE(kRsqrt) CASE(kExp)
    CASE(kLog) CASE(kSigmoid) CASE(kTanh) CASE(kAbs) CASE(kScale) CASE(kLeakyRelu) CASE(kElu)
#undef CASE
  }
  return undefined(env);
}

napi_value add_n(napi_env env, const Args& a) {
  constexpr size_t kMaxInputs = 15;
  Span<float> out = a.f32(0, "out");
  if (a.count() < 2 || a.count() > kMaxInputs + 1) {
    a.fail("expects 1 to " + std::to_string(kMaxInputs) + " input arrays after out, but received " +
           std::to_string(a.count() < 1 ? 0 : a.count() - 1));
  }
  std::vector<const float*> xs;
  for (size_t i = 1; i < a.count(); ++i) {
    const std::string name = "input " + std::to_string(i - 1);
    Span<float> s = a.f32(i, name.c_str());
    expect_length(a, s, out.size, name.c_str(), "the length of out");
    xs.push_back(s.data);
  }
  const int64_t total = out.size;
  const size_t m = xs.size();
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t k = 0; k < total; ++k) {
    float s = xs[0][k];
    for (size_t j = 1; j < m; ++j) s += xs[j][k];
    out.data[k] = s;
  }
  return undefined(env);
}

}  // namespace scconv
