// Micro-benchmark: the SRU forward's reconstruction loop (native/src/sru.cc, paper Eq. 3–4) in its
// two forms, single-threaded, on the CIFAR widths, to show what the compiler makes of them per
// instruction set. "pair" handles channel ch and its swap partner ch + c/2 in one lane (the form
// before 2026-12-01); "row" runs the gates across the whole row, then swaps halves (the form now).
//
//   g++ -O3 -std=c++20 -fopenmp-simd -fno-math-errno [-fno-trapping-math] -march=x86-64-v3|x86-64-v4 \
//       -o /tmp/sru_loop_bench scripts/sru_loop_bench.cc && /tmp/sru_loop_bench
//
// Without -fno-trapping-math, GCC 12 does not vectorise fast_exp's clamp for AVX2 (x86-64-v3: "control
// flow in loop"), and both forms run ~20× slower there; results: reports/bench/2026-12-01e-trapping-math.txt.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "../native/src/fast_math.h"

using scconv::fast_sigmoid;

struct Gate {
  float w1, w2;
};
inline Gate soft_gate(float w, float t) {  // W1 = where(w > t, 1, w), W2 = where(w > t, 0, w)
  const float m = w > t ? 1.f : 0.f;
  return {m + (1.f - m) * w, (1.f - m) * w};
}

template <int64_t C>
void pair_form(const float* __restrict x, float* __restrict y, const float* __restrict a, const float* __restrict b,
               int64_t pixels, float t) {
  constexpr int64_t half = C / 2;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* xr = x + p * C;
    float* yr = y + p * C;
#pragma omp simd
    for (int64_t ch = 0; ch < half; ++ch) {
      const float x0 = xr[ch], x1 = xr[ch + half];
      const Gate g0 = soft_gate(fast_sigmoid(a[ch] * x0 + b[ch]), t);
      const Gate g1 = soft_gate(fast_sigmoid(a[ch + half] * x1 + b[ch + half]), t);
      yr[ch] = g0.w1 * x0 + g1.w2 * x1;
      yr[ch + half] = g1.w1 * x1 + g0.w2 * x0;
    }
  }
}

template <int64_t C>
void row_form(const float* __restrict x, float* __restrict y, const float* __restrict a, const float* __restrict b,
              int64_t pixels, float t) {
  constexpr int64_t half = C / 2;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* xr = x + p * C;
    float* yr = y + p * C;
    float kept[C], moved[C];
#pragma omp simd
    for (int64_t ch = 0; ch < C; ++ch) {
      const Gate g = soft_gate(fast_sigmoid(a[ch] * xr[ch] + b[ch]), t);
      kept[ch] = g.w1 * xr[ch];
      moved[ch] = g.w2 * xr[ch];
    }
#pragma omp simd
    for (int64_t ch = 0; ch < half; ++ch) {
      yr[ch] = kept[ch] + moved[ch + half];
      yr[ch + half] = kept[ch + half] + moved[ch];
    }
  }
}

template <int64_t C>
void run(int64_t pixels) {
  const int64_t size = pixels * C;
  std::vector<float> x(size), y0(size), y1(size), a(C), b(C);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-3, 3);
  for (auto* v : {&x, &a, &b}) for (float& e : *v) e = u(rng);
  double best[2] = {1e9, 1e9};
  for (int k = 0; k < 20; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    pair_form<C>(x.data(), y0.data(), a.data(), b.data(), pixels, 0.5f);
    const auto t1 = std::chrono::steady_clock::now();
    row_form<C>(x.data(), y1.data(), a.data(), b.data(), pixels, 0.5f);
    const auto t2 = std::chrono::steady_clock::now();
    best[0] = std::min(best[0], std::chrono::duration<double, std::nano>(t1 - t0).count() / size);
    best[1] = std::min(best[1], std::chrono::duration<double, std::nano>(t2 - t1).count() / size);
  }
  double diff = 0;
  for (int64_t i = 0; i < size; ++i) diff = std::max(diff, static_cast<double>(std::fabs(y0[i] - y1[i])));
  std::printf("c=%-3ld ns per element, one thread: pair %.3f  row %.3f   (max |difference| %.1e)\n",
              static_cast<long>(C), best[0], best[1], diff);
}

int main() {
  run<16>(64 * 1024);
  run<32>(64 * 256);
  run<64>(64 * 64);
}
