// Data movement as plain row copies. src/kernels/copy.ts calls:
//
//   copyRows(src, dst, rows, width, srcStride, srcOffset, dstStride, dstOffset)
//     dst[dstOffset + r·dstStride + i] = src[srcOffset + r·srcStride + i], r < rows, i < width
//     (Concat and SplitV along any axis).
//   slice(x, out, shape, begin, size)
//     out = x[begin : begin + size], with Int32Array shape, begin and size of one rank.

#include "kernels.h"

#include <cstring>
#include <string>
#include <vector>

namespace scconv {

napi_value copy_rows(napi_env env, const Args& a) {
  Span<float> src = a.f32(0, "src"), dst = a.f32(1, "dst");
  const int64_t rows = a.integer(2, "rows", 0), width = a.integer(3, "width", 0), ss = a.integer(4, "srcStride", 0),
                so = a.integer(5, "srcOffset", 0), ds = a.integer(6, "dstStride", 0), doff = a.integer(7, "dstOffset", 0);
  if (rows == 0 || width == 0) return undefined(env);
  // The last element each side touches (the products are bounded first, so the sums cannot overflow).
  product(a, {rows, ss}, "rows·srcStride");
  product(a, {rows, ds}, "rows·dstStride");
  expect_reach(a, src, so + (rows - 1) * ss + width - 1, "src");
  expect_reach(a, dst, doff + (rows - 1) * ds + width - 1, "dst");
#pragma omp parallel for schedule(static) if (rows * width >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst.data + doff + r * ds, src.data + so + r * ss, sizeof(float) * width);
  return undefined(env);
}

napi_value slice(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "x"), outs = a.f32(1, "out");
  Span<int32_t> shape = a.i32(2, "shape"), begin = a.i32(3, "begin"), size = a.i32(4, "size");
  const int64_t rank = shape.size;
  if (begin.size != rank || size.size != rank) {
    a.fail("begin and size expect the rank of shape (" + std::to_string(rank) + "), but received lengths " +
           std::to_string(begin.size) + " and " + std::to_string(size.size));
  }
  int64_t in_size = 1, out_size = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (shape.data[i] < 0 || begin.data[i] < 0 || size.data[i] < 0 ||
        int64_t{begin.data[i]} + size.data[i] > shape.data[i]) {
      a.fail("begin[" + std::to_string(i) + "] + size[" + std::to_string(i) + "] expects non-negative values within shape[" +
             std::to_string(i) + "] = " + std::to_string(shape.data[i]) + ", but received begin " +
             std::to_string(begin.data[i]) + " and size " + std::to_string(size.data[i]));
    }
    in_size = product(a, {in_size, shape.data[i]}, "shape");
    out_size *= size.data[i];
  }
  expect_length(a, xs, in_size, "x", "the product of shape");
  expect_length(a, outs, out_size, "out", "the product of size");
  const float* x = xs.data;
  float* out = outs.data;
  if (out_size == 0) return undefined(env);
  if (rank == 0) { out[0] = x[0]; return undefined(env); }
  const int32_t *sh = shape.data, *bg = begin.data, *sz = size.data;
  std::vector<int64_t> stride(rank);
  stride[rank - 1] = 1;
  for (int64_t i = rank - 1; i > 0; --i) stride[i - 1] = stride[i] * sh[i];
  // Axes k+1.. are whole, so each output row (one index into axes 0..k-1) is one contiguous run.
  int64_t k = rank - 1;
  while (k > 0 && sz[k] == sh[k] && bg[k] == 0) --k;
  const int64_t width = sz[k] * stride[k];
  int64_t rows = 1;
  for (int64_t i = 0; i < k; ++i) rows *= sz[i];
#pragma omp parallel for schedule(static) if (rows * width >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, off = bg[k] * stride[k];
    for (int64_t i = k - 1; i >= 0; --i) {
      off += (bg[i] + rem % sz[i]) * stride[i];
      rem /= sz[i];
    }
    std::memcpy(out + r * width, x + off, sizeof(float) * width);
  }
  return undefined(env);
}

}  // namespace scconv
