// Vectorisable maths for the fused kernels' inner loops.
//
// glibc's expf is a function call per element: GCC vectorises it (through libmvec) only under
// -ffast-math, which this addon does not use. In a `#pragma omp simd` loop fast_exp below is plain
// arithmetic, so the loop runs 8 or 16 lanes wide. SCCONV_SIMD_CLONES compiles a function three
// times (AVX-512, AVX2 + FMA, the x86-64 baseline) and picks one at load time for the CPU it runs
// on, so the addon stays portable while hot loops use the widest vectors the machine has. The
// addon builds with -fno-trapping-math (native/binding.gyp): without it GCC 12 vectorises fast_exp's
// clamp only where AVX-512 masks exist, and the AVX2 and baseline clones ran scalar, ~25× slower
// (scripts/sru_loop_bench.cc, reports/bench/2026-12-01e-trapping-math.txt).

#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SCCONV_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SCCONV_SIMD_CLONES
#endif

namespace scconv {

// Row loops templated on the width. A helper `template <int64_t kC> f(...)` takes kC = c where c
// is one of the CIFAR ResNets' widths (16, 32, 64: its loops are then fully unrolled and its
// row-sized arrays stay in registers) and kC = 0 for any other c (read at run time). A clone
// (SCCONV_SIMD_CLONES) dispatches with SCCONV_ROW_WIDTHS(CALL), CALL(W) calling f<W>; helpers are
// SCCONV_INLINE so that each clone gets them built for its own vector width. (Plain loops, not
// helpers taking a lambda: a lambda's body is not built per clone; the SRU's loops written that
// way ran 10–11 ns per element against 0.45, measured before -fno-trapping-math.)
#define SCCONV_ROW_WIDTHS(CALL) \
  switch (c) {                  \
    case 16: CALL(16); break;   \
    case 32: CALL(32); break;   \
    case 64: CALL(64); break;   \
    default: CALL(0);           \
  }
#define SCCONV_INLINE __attribute__((always_inline)) inline

// A row-sized working array: on the stack for a known width kC, on the heap for any other.
template <int64_t kC>
struct RowArray {
  explicit RowArray(int64_t) {}
  float* data() { return v; }
  float v[kC];
};
template <>
struct RowArray<0> {
  explicit RowArray(int64_t n) : v(n) {}
  float* data() { return v.data(); }
  std::vector<float> v;
};

// e^x for float x, relative error below 2e-7 for |x| ≤ 87 (clamped outside, where e^x leaves the
// normal float range). Cephes' expf: n = round(x/ln 2), r = x − n·ln 2 with ln 2 split in two parts
// (Cody–Waite) so r is exact, e^r by a degree-6 polynomial on |r| ≤ ln 2 / 2, then 2^n through the
// exponent bits. Rounding adds and subtracts 1.5·2^23 (GCC keeps the pair without -ffast-math).
inline float fast_exp(float x) {
  x = std::min(std::max(x, -87.f), 87.f);
  const float n = (x * 1.44269504089f + 12582912.f) - 12582912.f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, bits);
}

// σ(z) = 1/(1 + e^−z), through fast_exp.
inline float fast_sigmoid(float z) { return 1.f / (1.f + fast_exp(-z)); }

}  // namespace scconv
