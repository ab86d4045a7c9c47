// Micro-benchmark: SCConv's Y1 conv (the GWC with PWC1 folded in, src/layers/cru.ts: a 3×3 'same'
// conv from the a = c/4 squeezed channels to c, NHWC) at batch 128 on the three CIFAR stages, oneDNN's
// inference primitive against a direct loop (output channels along the vector lanes, 8 or 4 pixels a
// block, the input zero-padded per example) that also sums each example's output (the pooling CRU_FUSE
// needs), both on 2 threads in one process. It asks how far the Y1 conv is from its compute floor: one
// 16-lane FMA a cycle a core, which is what the dense 16 → 16 conv of ResNet-20 reaches on this VM.
//
//   g++ -O3 -std=c++17 -fopenmp -fno-trapping-math -o /tmp/y1_conv_bench scripts/y1_conv_bench.cc -ldnnl
//   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/y1_conv_bench
//
// The direct loop is built for AVX-512 only (a target attribute): run it on such a CPU.
// Results: reports/bench/2026-12-01f-y1-conv.txt.
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <cmath>
using namespace dnnl;

// y = conv3x3(in, wt) for in [N, H, W, A], wt [3, 3, A, O] (HWIO), out [N, H, W, O]; pooled [N, O] = Σ_hw y.
// W must be a multiple of P (no tail block).
template <int A, int O, int P>
__attribute__((target("avx512f,avx512vl,fma")))
void direct(const float* in, const float* wt, float* out, int N, int H, int W, float* pooled) {
  if (W % P != 0) {
    std::fprintf(stderr, "direct: W = %d is not a multiple of the block of %d pixels\n", W, P);
    std::exit(1);
  }
  const int Hp = H + 2, Wp = W + 2;
#pragma omp parallel
  {
    std::vector<float> pad((size_t)Hp * Wp * A, 0.f);
#pragma omp for schedule(static)
    for (int n = 0; n < N; ++n) {
      const float* src = in + (size_t)n * H * W * A;
      for (int y = 0; y < H; ++y) std::memcpy(&pad[((y + 1) * Wp + 1) * A], src + (size_t)y * W * A, sizeof(float) * W * A);
      float pool[O] = {0};
      float* dst = out + (size_t)n * H * W * O;
      for (int y = 0; y < H; ++y) {
        for (int x0 = 0; x0 < W; x0 += P) {
          float acc[P][O];
          for (int p = 0; p < P; ++p)
#pragma omp simd
            for (int o = 0; o < O; ++o) acc[p][o] = 0.f;
          for (int ky = 0; ky < 3; ++ky) {
            const float* row = &pad[((y + ky) * Wp + x0) * A];
            for (int kx = 0; kx < 3; ++kx) {
              for (int a = 0; a < A; ++a) {
                const float* w = wt + ((ky * 3 + kx) * A + a) * O;
                for (int p = 0; p < P; ++p) {
                  const float v = row[(p + kx) * A + a];
#pragma omp simd
                  for (int o = 0; o < O; ++o) acc[p][o] += v * w[o];
                }
              }
            }
          }
          for (int p = 0; p < P; ++p) {
#pragma omp simd
            for (int o = 0; o < O; ++o) { dst[((size_t)y * W + x0 + p) * O + o] = acc[p][o]; pool[o] += acc[p][o]; }
          }
        }
      }
      std::memcpy(pooled + n * O, pool, sizeof pool);
    }
  }
}

// Times oneDNN and both direct loops, 40 calls each a round (median), three rounds, and checks each
// direct loop's output against oneDNN's.
template <int A, int O>
void bench(int N, int H, int W) {
  std::vector<float> in((size_t)N * H * W * A), wt(9 * A * O), out1((size_t)N * H * W * O), out2(out1.size()), pooled(N * O);
  for (size_t i = 0; i < in.size(); ++i) in[i] = std::sin(i * 0.37f);
  for (size_t i = 0; i < wt.size(); ++i) wt[i] = std::cos(i * 0.11f) * 0.2f;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  memory::desc src_md({N, A, H, W}, memory::data_type::f32, memory::format_tag::nhwc);
  memory::desc dst_md({N, O, H, W}, memory::data_type::f32, memory::format_tag::nhwc);
  memory::desc w_user({O, A, 3, 3}, memory::data_type::f32, memory::format_tag::hwio);
  memory::desc w_any({O, A, 3, 3}, memory::data_type::f32, memory::format_tag::any);
  auto pd = convolution_forward::primitive_desc(convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct,
      src_md, w_any, dst_md, {1, 1}, {1, 1}, {1, 1}), eng);
  memory src_m(src_md, eng, in.data()), dst_m(dst_md, eng, out1.data()), wu(w_user, eng, wt.data());
  memory wm = wu;
  if (pd.weights_desc() != wu.get_desc()) { wm = memory(pd.weights_desc(), eng); reorder(wu, wm).execute(s, wu, wm); }
  convolution_forward conv(pd);
  auto t = [&](auto f) { std::vector<double> v; for (int r = 0; r < 40; ++r) { auto t0 = std::chrono::steady_clock::now(); f(); v.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()); } std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  const double floor_ms = (double)N * H * W * 9 * A * O / 16 / 2 / 3.0e9 * 1e3;  // one 16-lane FMA a cycle a core, 2 cores, 3 GHz
  printf("[%d,%d,%d,%d] -> %d channels: oneDNN %s; one-FMA-a-cycle floor at 3 GHz %.3f ms\n", N, H, W, A, O, pd.impl_info_str(), floor_ms);
  for (int round = 0; round < 3; ++round) {
    double a = t([&] { conv.execute(s, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst_m}}); s.wait(); });
    const auto max_diff = [&] {
      double err = 0;
      for (size_t i = 0; i < out1.size(); ++i) err = std::max(err, (double)std::fabs(out1[i] - out2[i]));
      return err;
    };
    double b = t([&] { direct<A, O, 8>(in.data(), wt.data(), out2.data(), N, H, W, pooled.data()); });
    const double err8 = max_diff();
    double c = t([&] { direct<A, O, 4>(in.data(), wt.data(), out2.data(), N, H, W, pooled.data()); });
    const double err4 = max_diff();
    printf("  round %d: oneDNN %.3f ms, direct (+pooled sums) 8 pixels a block %.3f ms, 4 pixels %.3f ms; max |diff| %.1e, %.1e\n",
           round, a, b, c, err8, err4);
  }
}

int main() {
  bench<4, 16>(128, 32, 32);
  bench<8, 32>(128, 16, 16);
  bench<16, 64>(128, 8, 8);
}
