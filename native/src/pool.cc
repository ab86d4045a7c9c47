// k×k blocks on NHWC: average pooling with window = stride (OctaveConv's pool), integer-factor
// nearest-neighbour upsampling, and their gradients. src/kernels/pool.ts calls:
//
//   blockReduce(x, out, n, h, w, c, k, scale)
//     out[n, i, j, :] = scale · Σ_{a,b<k} x[n, k·i+a, k·j+b, :] with out [n, ⌊h/k⌋, ⌊w/k⌋, c]
//     (AvgPool with filter = stride = k, 'valid', at scale 1/k²; the gradient of a k× nearest
//     upsampling at scale 1).
//   blockSpread(x, out, n, h, w, c, k, outH, outW, scale)
//     out[n, y, z, :] = scale · x[n, ⌊y/k⌋, ⌊z/k⌋, :] for y < k·h, z < k·w and 0 elsewhere, with
//     x [n, h, w, c] and out [n, outH, outW, c] (k× nearest upsampling at scale 1; the AvgPool
//     gradient at scale 1/k², outH ≥ k·h).

#include "kernels.h"

#include <cstring>

namespace scconv {

napi_value block_reduce(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), outs = a.f32(1, "out");
  const int64_t n = a.integer(2, "n", 0), h = a.integer(3, "h", 0), w = a.integer(4, "w", 0), c = a.integer(5, "c", 0),
                k = a.integer(6, "k", 1);
  const float scale = static_cast<float>(a.number(7, "scale"));
  const int64_t oh = h / k, ow = w / k, rows = n * oh;
  expect_length(a, xs, product(a, {n, h, w, c}, "x"), "x", "[n, h, w, c]");
  expect_length(a, outs, product(a, {n, oh, ow, c}, "out"), "out", "[n, h/k, w/k, c]");
  const float* x = xs.data;
  float* out = outs.data;
#pragma omp parallel for schedule(static) if (rows * ow * c * k * k >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t b = r / oh, i = r % oh;
    for (int64_t j = 0; j < ow; ++j) {
      float* o = out + (r * ow + j) * c;
      for (int64_t ch = 0; ch < c; ++ch) o[ch] = 0.f;
      for (int64_t di = 0; di < k; ++di) {
        for (int64_t dj = 0; dj < k; ++dj) {
          const float* src = x + ((b * h + i * k + di) * w + j * k + dj) * c;
          for (int64_t ch = 0; ch < c; ++ch) o[ch] += src[ch];
        }
      }
      for (int64_t ch = 0; ch < c; ++ch) o[ch] *= scale;
    }
  }
  return undefined(env);
}

napi_value block_spread(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), outs = a.f32(1, "out");
  const int64_t n = a.integer(2, "n", 0), h = a.integer(3, "h", 0), w = a.integer(4, "w", 0), c = a.integer(5, "c", 0),
                k = a.integer(6, "k", 1), oh = a.integer(7, "outH", 0), ow = a.integer(8, "outW", 0);
  const float scale = static_cast<float>(a.number(9, "scale"));
  expect_length(a, xs, product(a, {n, h, w, c}, "x"), "x", "[n, h, w, c]");
  expect_length(a, outs, product(a, {n, oh, ow, c}, "out"), "out", "[n, outH, outW, c]");
  const float* x = xs.data;
  float* out = outs.data;
  const int64_t rows = n * oh;
#pragma omp parallel for schedule(static) if (rows * ow * c >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t b = r / oh, y = r % oh;
    float* o = out + r * ow * c;
    if (y >= h * k) {
      std::memset(o, 0, sizeof(float) * ow * c);
      continue;
    }
    for (int64_t z = 0; z < ow; ++z) {
      if (z >= w * k) {
        std::memset(o + z * c, 0, sizeof(float) * (ow - z) * c);
        break;
      }
      const float* src = x + ((b * h + y / k) * w + z / k) * c;
      for (int64_t ch = 0; ch < c; ++ch) o[ch + z * c] = scale * src[ch];
    }
  }
  return undefined(env);
}

}  // namespace scconv
