// Native CPU training kernels for the 'native' TensorFlow.js backend (src/kernels/native_backend.ts).
//
// Convolutions run through oneDNN (the library PyTorch uses for CPU convs) directly on the NHWC
// Float32Arrays that tfjs-backend-cpu keeps its tensors in (zero copy); the elementwise ops,
// reductions and batch-norm passes that dominate a ResNet training step once convs are fast are
// plain OpenMP loops (oneDNN uses the same OpenMP thread pool, so there is no oversubscription).
// Every function writes into an output array that the caller allocated.

#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// N-API helpers
// ---------------------------------------------------------------------------------------------

struct Args {
  napi_env env;
  static constexpr size_t kMax = 16;
  size_t argc = kMax;
  napi_value argv[kMax];
  Args(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    if (argc > kMax) argc = kMax;  // napi reports the full count; only kMax were copied
  }
  // Float32Array or Int32Array data pointer (nullptr for null/undefined) and element count.
  template <typename T>
  T* array(size_t i, size_t* length = nullptr) const {
    napi_valuetype type;
    napi_typeof(env, argv[i], &type);
    if (type == napi_null || type == napi_undefined) return nullptr;
    napi_typedarray_type kind;
    size_t n;
    void* data;
    napi_value buffer;
    size_t offset;
    if (napi_get_typedarray_info(env, argv[i], &kind, &n, &data, &buffer, &offset) != napi_ok) {
      napi_throw_type_error(env, nullptr, "scconv_native expects a typed array argument");
      return nullptr;
    }
    if (length) *length = n;
    return static_cast<T*>(data);
  }
  double number(size_t i) const {
    double v = 0;
    napi_get_value_double(env, argv[i], &v);
    return v;
  }
  int64_t integer(size_t i) const { return static_cast<int64_t>(number(i)); }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

void throw_error(napi_env env, const std::string& what) { napi_throw_error(env, nullptr, what.c_str()); }

// Element counts below this run on one thread (thread start-up costs more than it saves).
constexpr int64_t kParallelMin = 1 << 15;

// ---------------------------------------------------------------------------------------------
// Convolutions (oneDNN)
// ---------------------------------------------------------------------------------------------

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
dnnl::stream& cpu_stream() {
  static dnnl::stream s(cpu_engine());
  return s;
}

// Conv geometry, in the order the JS side packs it (Int32Array).
struct ConvParams {
  int64_t n, h, w, c, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pb, pl, pr, groups;
};

// One cached primitive per (mode, geometry, fused options): creating a oneDNN primitive JIT-compiles
// its kernel, so it is built once and reused every step.
struct ConvPlan {
  dnnl::primitive prim;
  memory::desc src, wei, dst, user_wei, bias;
  bool reorder_wei = false;
  dnnl::reorder wei_reorder;  // user -> internal (fwd, bwd data) or internal -> user (bwd weights)
  std::unique_ptr<memory> wei_mem;  // internal-format weights buffer
  std::string impl;
};

std::unordered_map<std::string, std::unique_ptr<ConvPlan>> conv_plans;

memory::desc user_weights_desc(const ConvParams& p) {
  if (p.groups == 1) return memory::desc({p.o, p.c, p.kh, p.kw}, dt::f32, tag::hwio);
  // Depthwise: tfjs filter [kh, kw, inC, multiplier] = goihw with g = inC, o = multiplier, i = 1.
  return memory::desc({p.groups, p.o / p.groups, p.c / p.groups, p.kh, p.kw}, dt::f32, tag::hwigo);
}

memory::desc any_weights_desc(const ConvParams& p) {
  if (p.groups == 1) return memory::desc({p.o, p.c, p.kh, p.kw}, dt::f32, tag::any);
  return memory::desc({p.groups, p.o / p.groups, p.c / p.groups, p.kh, p.kw}, dt::f32, tag::any);
}

dnnl::convolution_forward::primitive_desc forward_pd(const ConvParams& p, bool with_bias, int act,
                                                    float alpha) {
  memory::desc src({p.n, p.c, p.h, p.w}, dt::f32, tag::nhwc);
  memory::desc dst({p.n, p.o, p.oh, p.ow}, dt::f32, tag::nhwc);
  memory::desc bias({p.o}, dt::f32, tag::x);
  memory::dims strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1}, pl = {p.pt, p.pl}, pr = {p.pb, p.pr};
  auto d = with_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                       dnnl::algorithm::convolution_direct, src,
                                                       any_weights_desc(p), bias, dst, strides, dil, pl, pr)
                     : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                       dnnl::algorithm::convolution_direct, src,
                                                       any_weights_desc(p), dst, strides, dil, pl, pr);
  dnnl::primitive_attr attr;
  if (act != 0) {
    dnnl::post_ops ops;
    if (act == 1) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    if (act == 2) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
    if (act == 3) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f);
    if (act == 4) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
    if (act == 5) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f);
    attr.set_post_ops(ops);
  }
  return dnnl::convolution_forward::primitive_desc(d, attr, cpu_engine());
}

ConvPlan* conv_plan(int mode, const ConvParams& p, bool with_bias, int act, float alpha) {
  std::string key = std::to_string(mode);
  for (int64_t v : {p.n, p.h, p.w, p.c, p.o, p.kh, p.kw, p.oh, p.ow, p.sh, p.sw, p.dh, p.dw, p.pt, p.pb,
                    p.pl, p.pr, p.groups, (int64_t)with_bias, (int64_t)act})
    key += "," + std::to_string(v);
  key += "," + std::to_string(alpha);
  auto it = conv_plans.find(key);
  if (it != conv_plans.end()) return it->second.get();

  auto plan = std::make_unique<ConvPlan>();
  auto& eng = cpu_engine();
  plan->user_wei = user_weights_desc(p);
  auto fwd = forward_pd(p, with_bias, act, alpha);
  memory::desc src({p.n, p.c, p.h, p.w}, dt::f32, tag::nhwc);
  memory::desc dst({p.n, p.o, p.oh, p.ow}, dt::f32, tag::nhwc);
  memory::dims strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1}, pl = {p.pt, p.pl}, pr = {p.pb, p.pr};
  memory::desc internal;
  if (mode == 0) {
    plan->prim = dnnl::convolution_forward(fwd);
    internal = fwd.weights_desc();
    plan->impl = fwd.impl_info_str();
  } else if (mode == 1) {
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, src, any_weights_desc(p),
                                            dst, strides, dil, pl, pr);
    dnnl::convolution_backward_data::primitive_desc pd(d, eng, fwd);
    plan->prim = dnnl::convolution_backward_data(pd);
    internal = pd.weights_desc();
    plan->impl = pd.impl_info_str();
  } else {
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, src, any_weights_desc(p),
                                               dst, strides, dil, pl, pr);
    dnnl::convolution_backward_weights::primitive_desc pd(d, eng, fwd);
    plan->prim = dnnl::convolution_backward_weights(pd);
    internal = pd.diff_weights_desc();
    plan->impl = pd.impl_info_str();
  }
  plan->wei = internal;
  if (internal != plan->user_wei) {
    plan->reorder_wei = true;
    plan->wei_mem = std::make_unique<memory>(internal, eng);
    memory user(plan->user_wei, eng, nullptr);
    plan->wei_reorder = mode == 2 ? dnnl::reorder(*plan->wei_mem, user) : dnnl::reorder(user, *plan->wei_mem);
  }
  auto* raw = plan.get();
  conv_plans.emplace(key, std::move(plan));
  return raw;
}

bool read_params(const Args& a, size_t i, ConvParams* p) {
  size_t n = 0;
  int32_t* v = a.array<int32_t>(i, &n);
  if (!v || n < 18) return false;
  int64_t* out = &p->n;
  for (int k = 0; k < 18; ++k) out[k] = v[k];
  return true;
}

// conv(mode, a, b, out, params, bias?, act, alpha)
//   mode 0 forward:          a = x [n,h,w,c],  b = filter, out = y [n,oh,ow,o]
//   mode 1 input gradient:   a = dy,           b = filter, out = dx
//   mode 2 filter gradient:  a = x,            b = dy,     out = dfilter
napi_value Conv(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int mode = static_cast<int>(a.integer(0));
  ConvParams p;
  if (!read_params(a, 4, &p)) {
    throw_error(env, "scconv_native.conv expects 18 Int32 parameters");
    return nullptr;
  }
  float* x = a.array<float>(1);
  float* y = a.array<float>(2);
  float* out = a.array<float>(3);
  float* bias = a.argc > 5 ? a.array<float>(5) : nullptr;
  int act = a.argc > 6 ? static_cast<int>(a.integer(6)) : 0;
  float alpha = a.argc > 7 ? static_cast<float>(a.number(7)) : 0.f;
  try {
    ConvPlan* plan = conv_plan(mode, p, bias != nullptr, act, alpha);
    auto& eng = cpu_engine();
    auto& s = cpu_stream();
    memory::desc src({p.n, p.c, p.h, p.w}, dt::f32, tag::nhwc);
    memory::desc dst({p.n, p.o, p.oh, p.ow}, dt::f32, tag::nhwc);
    if (mode == 0) {
      memory xs(src, eng, x), ys(dst, eng, out), wu(plan->user_wei, eng, y);
      if (plan->reorder_wei) plan->wei_reorder.execute(s, wu, *plan->wei_mem);
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, xs},
                                              {DNNL_ARG_WEIGHTS, plan->reorder_wei ? *plan->wei_mem : wu},
                                              {DNNL_ARG_DST, ys}};
      if (bias) args.insert({DNNL_ARG_BIAS, memory(memory::desc({p.o}, dt::f32, tag::x), eng, bias)});
      plan->prim.execute(s, args);
    } else if (mode == 1) {
      memory dys(dst, eng, x), dxs(src, eng, out), wu(plan->user_wei, eng, y);
      if (plan->reorder_wei) plan->wei_reorder.execute(s, wu, *plan->wei_mem);
      plan->prim.execute(s, {{DNNL_ARG_DIFF_DST, dys},
                             {DNNL_ARG_WEIGHTS, plan->reorder_wei ? *plan->wei_mem : wu},
                             {DNNL_ARG_DIFF_SRC, dxs}});
    } else {
      memory xs(src, eng, x), dys(dst, eng, y), wu(plan->user_wei, eng, out);
      plan->prim.execute(s, {{DNNL_ARG_SRC, xs},
                             {DNNL_ARG_DIFF_DST, dys},
                             {DNNL_ARG_DIFF_WEIGHTS, plan->reorder_wei ? *plan->wei_mem : wu}});
      if (plan->reorder_wei) plan->wei_reorder.execute(s, *plan->wei_mem, wu);
    }
    s.wait();
  } catch (const dnnl::error& e) {
    throw_error(env, std::string("oneDNN convolution failed: ") + e.what());
    return nullptr;
  }
  return undefined(env);
}

// convImpl(mode, params, hasBias, act) -> the oneDNN implementation name (for diagnostics).
napi_value ConvImpl(napi_env env, napi_callback_info info) {
  Args a(env, info);
  ConvParams p;
  if (!read_params(a, 1, &p)) return undefined(env);
  ConvPlan* plan = conv_plan(static_cast<int>(a.integer(0)), p, a.integer(2) != 0, (int)a.integer(3), 0.f);
  napi_value s;
  napi_create_string_utf8(env, plan->impl.c_str(), plan->impl.size(), &s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Elementwise ops
// ---------------------------------------------------------------------------------------------

enum BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kReluGrad, kSigmoidGrad };

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

// out[i0, i1, i2] = a[i0·a0 + i1·a1 + i2·a2] OP b[i0·b0 + i1·b1 + i2·b2]: every broadcast a NHWC
// net needs (same shape, per-channel vector, per-example-and-channel [N,1,1,C], per-pixel, scalar)
// as three blocks of axes with a stride per operand (0 = broadcast).
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

// binary(op, a, b, out, d0, d1, d2, a0, a1, a2, b0, b1, b2)
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = static_cast<int>(a.integer(0));
  const float* x = a.array<float>(1);
  const float* y = a.array<float>(2);
  float* out = a.array<float>(3);
  const int64_t d0 = a.integer(4), d1 = a.integer(5), d2 = a.integer(6);
  const int64_t as[3] = {a.integer(7), a.integer(8), a.integer(9)};
  const int64_t bs[3] = {a.integer(10), a.integer(11), a.integer(12)};
  switch (op) {
#define CASE(K) case K: binary_loop<K>(x, y, out, d0, d1, d2, as, bs); break;
    CASE(kAdd) CASE(kSub) CASE(kMul) CASE(kDiv) CASE(kMax) CASE(kMin) CASE(kSquaredDiff) CASE(kReluGrad)
    CASE(kSigmoidGrad)
#undef CASE
    default: throw_error(env, "scconv_native.binary: unknown op");
  }
  return undefined(env);
}

enum UnaryOp { kRelu, kRelu6, kStep, kNeg, kSquare, kSqrt, kRsqrt, kExp, kLog, kSigmoid, kTanh, kAbs,
               kScale, kLeakyRelu, kElu };

template <int OP>
inline float unary(float x, float alpha) {
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
  // simd: with -fno-math-errno GCC calls glibc's vector expf/logf/tanhf (libmvec) here.
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) out[k] = unary<OP>(x[k], alpha);
}

// unary(op, x, out, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = static_cast<int>(a.integer(0));
  size_t n = 0;
  const float* x = a.array<float>(1, &n);
  float* out = a.array<float>(2);
  float alpha = static_cast<float>(a.number(3));
  switch (op) {
#define CASE(K) case K: unary_loop<K>(x, out, n, alpha); break;
    CASE(kRelu) CASE(kRelu6) CASE(kStep) CASE(kNeg) CASE(kSquare) CASE(kSqrt) CASE(kRsqrt) CASE(kExp)
    CASE(kLog) CASE(kSigmoid) CASE(kTanh) CASE(kAbs) CASE(kScale) CASE(kLeakyRelu) CASE(kElu)
#undef CASE
    default: throw_error(env, "scconv_native.unary: unknown op");
  }
  return undefined(env);
}

// addN(out, a0, a1, ...): out = sum of up to 15 same-shape arrays.
napi_value AddN(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  float* out = a.array<float>(0, &n);
  std::vector<const float*> xs;
  for (size_t i = 1; i < a.argc; ++i) xs.push_back(a.array<float>(i));
  const int64_t total = static_cast<int64_t>(n);
  const size_t m = xs.size();
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t k = 0; k < total; ++k) {
    float s = xs[0][k];
    for (size_t j = 1; j < m; ++j) s += xs[j][k];
    out[k] = s;
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Reductions over the middle axis of [outer, mid, inner]
// ---------------------------------------------------------------------------------------------

enum ReduceOp { kSum, kMean, kRMax, kRMin };

// reduce(op, x, out, outer, mid, inner): out[o, i] = reduce_m x[o, m, i]
napi_value Reduce(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = static_cast<int>(a.integer(0));
  const float* x = a.array<float>(1);
  float* out = a.array<float>(2);
  const int64_t outer = a.integer(3), mid = a.integer(4), inner = a.integer(5);
  const int64_t total = outer * mid * inner;
  const bool par = total >= kParallelMin;
  if (inner == 1) {
    // Reduce contiguous rows.
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; ++o) {
      const float* r = x + o * mid;
      if (op == kSum || op == kMean) {
        double s = 0;
        for (int64_t m = 0; m < mid; ++m) s += r[m];
        out[o] = static_cast<float>(op == kMean ? s / mid : s);
      } else {
        float v = r[0];
        for (int64_t m = 1; m < mid; ++m) v = op == kRMax ? (r[m] > v || std::isnan(r[m]) ? r[m] : v)
                                                        : (r[m] < v || std::isnan(r[m]) ? r[m] : v);
        out[o] = v;
      }
    }
    return undefined(env);
  }
  // Many independent outputs (e.g. NHWC over H, W per example): one thread per block of them.
  if (outer >= 2 * omp_get_max_threads()) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outer; ++o) {
      const float* base = x + o * mid * inner;
      float* dst = out + o * inner;
      if (op == kSum || op == kMean) {
        std::vector<double> acc(inner, 0.0);
        for (int64_t m = 0; m < mid; ++m)
          for (int64_t i = 0; i < inner; ++i) acc[i] += base[m * inner + i];
        for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<float>(op == kMean ? acc[i] / mid : acc[i]);
      } else {
        const bool is_max = op == kRMax;
        for (int64_t i = 0; i < inner; ++i) dst[i] = base[i];
        for (int64_t m = 1; m < mid; ++m)
          for (int64_t i = 0; i < inner; ++i) {
            const float v = base[m * inner + i];
            dst[i] = is_max ? (v > dst[i] || std::isnan(v) ? v : dst[i]) : (v < dst[i] || std::isnan(v) ? v : dst[i]);
          }
      }
    }
    return undefined(env);
  }
  // Few outputs over many rows (e.g. NHWC over N, H, W): split the rows between threads, each
  // keeps a partial row, then combine.
  const int threads = par ? omp_get_max_threads() : 1;
  for (int64_t o = 0; o < outer; ++o) {
    const float* base = x + o * mid * inner;
    std::vector<double> partial(static_cast<size_t>(threads) * inner);
    std::vector<float> partial_f(static_cast<size_t>(threads) * inner);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      const int t = omp_get_thread_num();
      const int nt = omp_get_num_threads();
      const int64_t m0 = mid * t / nt, m1 = mid * (t + 1) / nt;
      if (op == kSum || op == kMean) {
        // Accumulate in float over blocks of rows, in double across blocks.
        double* acc = partial.data() + static_cast<size_t>(t) * inner;
        std::vector<float> block(inner, 0.f);
        int64_t count = 0;
        for (int64_t m = m0; m < m1; ++m) {
          const float* r = base + m * inner;
          for (int64_t i = 0; i < inner; ++i) block[i] += r[i];
          if (++count == 64) {
            for (int64_t i = 0; i < inner; ++i) { acc[i] += block[i]; block[i] = 0.f; }
            count = 0;
          }
        }
        for (int64_t i = 0; i < inner; ++i) acc[i] += block[i];
      } else {
        float* acc = partial_f.data() + static_cast<size_t>(t) * inner;
        const bool is_max = op == kRMax;
        for (int64_t i = 0; i < inner; ++i) acc[i] = is_max ? -INFINITY : INFINITY;
        if (m1 > m0) {
          for (int64_t i = 0; i < inner; ++i) acc[i] = base[m0 * inner + i];
          for (int64_t m = m0 + 1; m < m1; ++m) {
            const float* r = base + m * inner;
            for (int64_t i = 0; i < inner; ++i)
              acc[i] = is_max ? (r[i] > acc[i] || std::isnan(r[i]) ? r[i] : acc[i])
                              : (r[i] < acc[i] || std::isnan(r[i]) ? r[i] : acc[i]);
          }
        }
      }
    }
    float* dst = out + o * inner;
    for (int64_t i = 0; i < inner; ++i) {
      if (op == kSum || op == kMean) {
        double s = 0;
        for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * inner + i];
        dst[i] = static_cast<float>(op == kMean ? s / mid : s);
      } else {
        float v = partial_f[i];
        for (int t = 1; t < threads; ++t) {
          float w = partial_f[static_cast<size_t>(t) * inner + i];
          v = op == kRMax ? (w > v || std::isnan(w) ? w : v) : (w < v || std::isnan(w) ? w : v);
        }
        dst[i] = v;
      }
    }
  }
  return undefined(env);
}

// broadcast(x, out, outer, mid, inner): out[o, m, i] = x[o, i] (Tile / BroadcastTo of a 1-axis).
napi_value Broadcast(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* x = a.array<float>(0);
  float* out = a.array<float>(1);
  const int64_t outer = a.integer(2), mid = a.integer(3), inner = a.integer(4);
  const int64_t rows = outer * mid;
#pragma omp parallel for schedule(static) if (rows * inner >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / mid;
    std::memcpy(out + r * inner, x + o * inner, sizeof(float) * inner);
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// k×k blocks on NHWC: average pooling with window = stride (OctaveConv's pool), integer-factor
// nearest-neighbour upsampling, and their gradients
// ---------------------------------------------------------------------------------------------

// blockReduce(x, out, n, h, w, c, k, scale): out[n, i, j, :] = scale · Σ_{a,b<k} x[n, k·i+a, k·j+b, :]
// with out [n, ⌊h/k⌋, ⌊w/k⌋, c] (AvgPool with filter = stride = k, 'valid', at scale 1/k²;
// the gradient of a k× nearest upsampling at scale 1).
napi_value BlockReduce(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* x = a.array<float>(0);
  float* out = a.array<float>(1);
  const int64_t n = a.integer(2), h = a.integer(3), w = a.integer(4), c = a.integer(5), k = a.integer(6);
  const float scale = static_cast<float>(a.number(7));
  const int64_t oh = h / k, ow = w / k, rows = n * oh;
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

// blockSpread(x, out, n, h, w, c, k, outH, outW, scale): out[n, y, z, :] = scale · x[n, ⌊y/k⌋, ⌊z/k⌋, :]
// for y < k·h, z < k·w and 0 elsewhere, with x [n, h, w, c] and out [n, outH, outW, c]
// (k× nearest upsampling at scale 1; the AvgPool gradient at scale 1/k², outH ≥ k·h).
napi_value BlockSpread(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* x = a.array<float>(0);
  float* out = a.array<float>(1);
  const int64_t n = a.integer(2), h = a.integer(3), w = a.integer(4), c = a.integer(5), k = a.integer(6),
                oh = a.integer(7), ow = a.integer(8);
  const float scale = static_cast<float>(a.number(9));
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
      for (int64_t ch = 0; ch < c; ++ch) o[z * c + ch] = scale * src[ch];
    }
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Copies: strided rows (Concat, SplitV) and N-d slices
// ---------------------------------------------------------------------------------------------

// copyRows(src, dst, rows, width, srcStride, srcOffset, dstStride, dstOffset)
napi_value CopyRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* src = a.array<float>(0);
  float* dst = a.array<float>(1);
  const int64_t rows = a.integer(2), width = a.integer(3), ss = a.integer(4), so = a.integer(5),
                ds = a.integer(6), doff = a.integer(7);
#pragma omp parallel for schedule(static) if (rows * width >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + doff + r * ds, src + so + r * ss, sizeof(float) * width);
  return undefined(env);
}

// slice(x, out, shape, begin, size): out = x[begin : begin + size] (Int32Array shape/begin/size).
napi_value Slice(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* x = a.array<float>(0);
  float* out = a.array<float>(1);
  size_t rank = 0;
  const int32_t* shape = a.array<int32_t>(2, &rank);
  const int32_t* begin = a.array<int32_t>(3);
  const int32_t* size = a.array<int32_t>(4);
  if (rank == 0) { out[0] = x[0]; return undefined(env); }
  std::vector<int64_t> stride(rank);
  stride[rank - 1] = 1;
  for (size_t i = rank - 1; i > 0; --i) stride[i - 1] = stride[i] * shape[i];
  // Axes k+1.. are whole, so each output row (one index into axes 0..k-1) is one contiguous run.
  int64_t k = static_cast<int64_t>(rank) - 1;
  while (k > 0 && size[k] == shape[k] && begin[k] == 0) --k;
  const int64_t width = size[k] * stride[k];
  int64_t rows = 1;
  for (int64_t i = 0; i < k; ++i) rows *= size[i];
#pragma omp parallel for schedule(static) if (rows * width >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, off = begin[k] * stride[k];
    for (int64_t i = k - 1; i >= 0; --i) {
      off += (begin[i] + rem % size[i]) * stride[i];
      rem /= size[i];
    }
    std::memcpy(out + r * width, x + off, sizeof(float) * width);
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Batched matrix product (oneDNN matmul)
// ---------------------------------------------------------------------------------------------

struct MatMulPlan { dnnl::matmul prim; memory::desc a, b, c; };
std::unordered_map<std::string, std::unique_ptr<MatMulPlan>> matmul_plans;

// matMul(a, b, out, batchA, batchB, m, k, n, transposeA, transposeB): out[batch, m, n]; a is
// [batchA, m, k] ([batchA, k, m] when transposed), b is [batchB, k, n] ([batchB, n, k]);
// a batch of 1 broadcasts.
napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.array<float>(0);
  float* y = a.array<float>(1);
  float* out = a.array<float>(2);
  const int64_t ba = a.integer(3), bb = a.integer(4), m = a.integer(5), k = a.integer(6), n = a.integer(7);
  const bool ta = a.integer(8) != 0, tb = a.integer(9) != 0;
  std::string key;
  for (int64_t v : {ba, bb, m, k, n, (int64_t)ta, (int64_t)tb}) key += std::to_string(v) + ",";
  try {
    auto it = matmul_plans.find(key);
    if (it == matmul_plans.end()) {
      auto plan = std::make_unique<MatMulPlan>();
      plan->a = memory::desc({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
      plan->b = memory::desc({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
      plan->c = memory::desc({std::max(ba, bb), m, n}, dt::f32, memory::dims{m * n, n, 1});
      dnnl::matmul::desc d(plan->a, plan->b, plan->c);
      plan->prim = dnnl::matmul(dnnl::matmul::primitive_desc(d, cpu_engine()));
      it = matmul_plans.emplace(key, std::move(plan)).first;
    }
    auto* p = it->second.get();
    auto& eng = cpu_engine();
    memory am(p->a, eng, x), bm(p->b, eng, y), cm(p->c, eng, out);
    p->prim.execute(cpu_stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    cpu_stream().wait();
  } catch (const dnnl::error& e) {
    throw_error(env, std::string("oneDNN matmul failed: ") + e.what());
    return nullptr;
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Batch norm over the last (channel) axis
// ---------------------------------------------------------------------------------------------

// batchNorm(x, mean, variance, offset?, scale?, eps, out, c, act)
//   out = act((x - mean) * scale / sqrt(variance + eps) + offset); act 0 none, 1 relu.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  const float* x = a.array<float>(0, &n);
  const float* mean = a.array<float>(1);
  const float* var = a.array<float>(2);
  const float* offset = a.array<float>(3);
  const float* scale = a.array<float>(4);
  const float eps = static_cast<float>(a.number(5));
  float* out = a.array<float>(6);
  const int64_t c = a.integer(7);
  const int act = static_cast<int>(a.integer(8));
  std::vector<float> mul(c), add(c);
  for (int64_t i = 0; i < c; ++i) {
    mul[i] = (scale ? scale[i] : 1.f) / std::sqrt(var[i] + eps);
    add[i] = (offset ? offset[i] : 0.f) - mean[i] * mul[i];
  }
  const int64_t rows = static_cast<int64_t>(n) / c;
  const float* mp = mul.data();
  const float* ap = add.data();
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(n) >= kParallelMin)
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

// Per-channel sums over rows of [rows, c]: s1 = sum(dy), s2 = sum(dy * (x - mean)).
void channel_sums(const float* dy, const float* x, const float* mean, int64_t rows, int64_t c, double* s1,
                  double* s2) {
  const int threads = rows * c >= kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> p1(static_cast<size_t>(threads) * c, 0.0), p2(static_cast<size_t>(threads) * c, 0.0);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    std::vector<float> b1(c, 0.f), b2(c, 0.f);
    double* a1 = p1.data() + static_cast<size_t>(t) * c;
    double* a2 = p2.data() + static_cast<size_t>(t) * c;
    int count = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const float* g = dy + r * c;
      const float* xr = x + r * c;
      for (int64_t i = 0; i < c; ++i) {
        b1[i] += g[i];
        b2[i] += g[i] * (xr[i] - mean[i]);
      }
      if (++count == 64) {
        for (int64_t i = 0; i < c; ++i) { a1[i] += b1[i]; a2[i] += b2[i]; b1[i] = b2[i] = 0.f; }
        count = 0;
      }
    }
    for (int64_t i = 0; i < c; ++i) { a1[i] += b1[i]; a2[i] += b2[i]; }
  }
  for (int64_t i = 0; i < c; ++i) {
    s1[i] = s2[i] = 0;
    for (int t = 0; t < threads; ++t) { s1[i] += p1[t * c + i]; s2[i] += p2[t * c + i]; }
  }
}

// sumProduct(a, b, out, outer, mid, inner): out[o, i] = Σ_m a[o, m, i]·b[o, m, i] — the gradient of
// a broadcast multiply for the broadcast operand, without materialising dy·x.
napi_value SumProduct(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* x = a.array<float>(0);
  const float* y = a.array<float>(1);
  float* out = a.array<float>(2);
  const int64_t outer = a.integer(3), mid = a.integer(4), inner = a.integer(5);
  const bool par = outer * mid * inner >= kParallelMin;
  if (outer >= 2 * omp_get_max_threads() || !par) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outer; ++o) {
      std::vector<double> acc(inner, 0.0);
      const float* xb = x + o * mid * inner;
      const float* yb = y + o * mid * inner;
      for (int64_t m = 0; m < mid; ++m)
        for (int64_t i = 0; i < inner; ++i) acc[i] += xb[m * inner + i] * yb[m * inner + i];
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(acc[i]);
    }
    return undefined(env);
  }
  std::vector<double> zeros(inner, 0.0), s1(inner), s2(inner);
  std::vector<float> zf(inner, 0.f);
  for (int64_t o = 0; o < outer; ++o) {
    // channel_sums gives Σ b and Σ b·(a − 0) over the rows of [mid, inner].
    channel_sums(y + o * mid * inner, x + o * mid * inner, zf.data(), mid, inner, s1.data(), s2.data());
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(s2[i]);
  }
  return undefined(env);
}

// batchNormGrad(dy, x, mean, variance, scale?, eps, c, dx, dmean, dvariance, dscale, doffset, full)
//   The gradients of FusedBatchNorm with respect to each of its inputs (mean and variance treated as
//   inputs, exactly as tfjs-core's gradient does), in two passes over dy and x.
//   full = 1: mean and variance are the batch statistics of x (biased variance), and dx is the
//   whole training-mode gradient through them too:
//     dx = g·r·(dy − Σdy/n − (x − mean)·r²·Σ(dy·(x − mean))/n),  r = 1/√(variance + eps),
//   while dmean and dvariance come out as zeros (their paths are already inside dx).
napi_value BatchNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  const float* dy = a.array<float>(0, &n);
  const float* x = a.array<float>(1);
  const float* mean = a.array<float>(2);
  const float* var = a.array<float>(3);
  const float* scale = a.array<float>(4);
  const float eps = static_cast<float>(a.number(5));
  const int64_t c = a.integer(6);
  float* dx = a.array<float>(7);
  float* dmean = a.array<float>(8);
  float* dvar = a.array<float>(9);
  float* dscale = a.array<float>(10);
  float* doffset = a.array<float>(11);
  const bool full = a.argc > 12 && a.integer(12) != 0;
  const int64_t rows = static_cast<int64_t>(n) / c;
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
    const float *kp = k.data(), *bp = b.data(), *qp = q.data();
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(n) >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* g = dy + r * c;
      const float* xr = x + r * c;
      float* o = dx + r * c;
      if (full) {
        for (int64_t i = 0; i < c; ++i) o[i] = g[i] * kp[i] + bp[i] + qp[i] * (xr[i] - mean[i]);
      } else {
        for (int64_t i = 0; i < c; ++i) o[i] = g[i] * kp[i];
      }
    }
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Module
// ---------------------------------------------------------------------------------------------

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  omp_set_num_threads(static_cast<int>(a.integer(0)));
  return undefined(env);
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_int32(env, omp_get_max_threads(), &v);
  return v;
}

// tuneMalloc(): keep freed tensor buffers in the heap for reuse. A training step allocates and frees
// gigabytes in multi-megabyte tensors; glibc serves those from fresh mmap()s and returns them to the
// OS on free, so every new tensor pays page faults (here ~10 ms for 8 MB, more than the math on it).
// Raising the mmap and trim thresholds makes calloc() reuse freed heap memory instead.
napi_value TuneMalloc(napi_env env, napi_callback_info) {
  bool ok = false;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
       mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1;
#endif
  napi_value v;
  napi_get_boolean(env, ok, &v);
  return v;
}

napi_value Version(napi_env env, napi_callback_info) {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch);
  napi_value out;
  napi_create_string_utf8(env, s.c_str(), s.size(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  struct Fn { const char* name; napi_callback cb; };
  const Fn fns[] = {{"conv", Conv}, {"convImpl", ConvImpl}, {"binary", Binary}, {"unary", Unary},
                    {"addN", AddN}, {"reduce", Reduce}, {"broadcast", Broadcast}, {"blockReduce", BlockReduce}, {"blockSpread", BlockSpread}, {"copyRows", CopyRows}, {"slice", Slice}, {"matMul", MatMul},
                    {"batchNorm", BatchNorm}, {"sumProduct", SumProduct}, {"batchNormGrad", BatchNormGrad},
                    {"setThreads", SetThreads}, {"getThreads", GetThreads}, {"tuneMalloc", TuneMalloc}, {"version", Version}};
  for (const auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
