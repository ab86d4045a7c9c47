// Convolutions through oneDNN (the library PyTorch uses for CPU convs), directly on the NHWC
// Float32Arrays that tfjs-backend-cpu keeps its tensors in (zero copy). src/kernels/conv.ts calls:
//
//   conv(mode, a, b, out, params, bias?, act, alpha)
//     mode 0 forward:          a = x [n,h,w,c],  b = filter [kh,kw,c/g,o], out = y [n,oh,ow,o]
//     mode 1 input gradient:   a = dy,           b = filter,               out = dx
//     mode 2 filter gradient:  a = x,            b = dy,                   out = dfilter
//     params: Int32Array of the 18 geometry numbers (ConvParams); bias [o] and act (0 none, 1 relu,
//     2 relu6, 3 leaky relu with slope alpha, 4 sigmoid, 5 elu) are fused as oneDNN post-ops (mode 0).
//     weightsId (mode 0, optional): a number > 0 that names the filter's contents for good (the JS side
//     gives each immutable filter tensor its own, outside training): the filter reordered into the
//     primitive's format is kept per id, so inference does not reorder the same weights every call.
//   convImpl(mode, params, hasBias, act) -> the oneDNN implementation name (for diagnostics).

#include "kernels.h"
#include "onednn.h"

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace scconv {
namespace {

// Conv geometry, in the order the JS side packs it (Int32Array); dh, dw are dilation factors (1 = none),
// groups = 1 for a plain conv and c for a depthwise one.
struct ConvParams {
  int64_t n, h, w, c, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pb, pl, pr, groups;
};
constexpr int kParams = 18;
const char* const kParamNames[kParams] = {"n", "h", "w", "c", "o", "kh", "kw", "oh", "ow", "sh", "sw", "dh",
                                          "dw", "pt", "pb", "pl", "pr", "groups"};

// The 18 numbers of params: sizes ≥ 1 (pads ≥ 0), and groups dividing c and o.
ConvParams read_params(const Args& a, size_t i) {
  Span<int32_t> v = a.i32(i, "params");
  if (v.size != kParams) {
    a.fail("params expects an Int32Array of " + std::to_string(kParams) + " geometry numbers, but received one of length " +
           std::to_string(v.size));
  }
  ConvParams p;
  int64_t* out = &p.n;
  for (int k = 0; k < kParams; ++k) {
    const int64_t lo = k >= 13 && k <= 16 ? 0 : 1;  // pads may be 0
    if (v.data[k] < lo) {
      a.fail(std::string("params.") + kParamNames[k] + " expects a value ≥ " + std::to_string(lo) + ", but received " +
             std::to_string(v.data[k]));
    }
    out[k] = v.data[k];
  }
  if (p.c % p.groups != 0 || p.o % p.groups != 0) {
    a.fail("params.groups expects a divisor of c = " + std::to_string(p.c) + " and o = " + std::to_string(p.o) +
           ", but received " + std::to_string(p.groups));
  }
  return p;
}

std::string describe(const ConvParams& p) {
  std::string s;
  const int64_t* v = &p.n;
  for (int k = 0; k < kParams; ++k) s += std::string(k ? " " : "") + kParamNames[k] + "=" + std::to_string(v[k]);
  return s;
}

// One cached primitive per (mode, geometry, fused options): creating a oneDNN primitive JIT-compiles
// its kernel, so it is built once and reused every step.
struct ConvPlan {
  dnnl::primitive prim;
  memory::desc src, wei, dst, user_wei, bias;
  bool reorder_wei = false;
  dnnl::reorder wei_reorder;  // user -> internal (fwd, bwd data) or internal -> user (bwd weights)
  std::unique_ptr<memory> wei_mem;  // internal-format weights buffer
  std::string impl;
  // Filters already in the internal format, by weightsId, least recently used first (mode 0 only).
  std::vector<std::pair<int64_t, std::unique_ptr<memory>>> reordered;
};

// Reordered filters kept per plan: more than the convs of one geometry in the CIFAR ResNets
// (ResNet-56: 18 per stage), each at most the filter's size.
constexpr size_t kReorderedPerPlan = 64;

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

// The cached plan; throws dnnl::error when oneDNN rejects the geometry (nothing is cached then).
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

// conv_plan with oneDNN's rejection reworded to name the geometry.
ConvPlan* checked_plan(const Args& a, int mode, const ConvParams& p, bool with_bias, int act, float alpha) {
  try {
    return conv_plan(mode, p, with_bias, act, alpha);
  } catch (const dnnl::error& e) {
    a.fail("oneDNN rejected the convolution (mode " + std::to_string(mode) + ", " + describe(p) + "): " + e.what());
  }
}

// The filter `user` in the plan's internal format: reordered into the plan's scratch buffer, or, for
// a weightsId > 0, taken from (or reordered once into) the plan's per-id cache.
memory& internal_weights(ConvPlan& plan, memory& user, int64_t weights_id, dnnl::stream& s) {
  if (weights_id <= 0) {
    plan.wei_reorder.execute(s, user, *plan.wei_mem);
    return *plan.wei_mem;
  }
  auto& kept = plan.reordered;
  auto hit = std::find_if(kept.begin(), kept.end(), [&](const auto& e) { return e.first == weights_id; });
  if (hit != kept.end()) {
    std::rotate(hit, hit + 1, kept.end());  // now the most recently used
    return *kept.back().second;
  }
  if (kept.size() == kReorderedPerPlan) kept.erase(kept.begin());
  kept.emplace_back(weights_id, std::make_unique<memory>(plan.wei, cpu_engine()));
  plan.wei_reorder.execute(s, user, *kept.back().second);
  return *kept.back().second;
}

}  // namespace

napi_value conv(napi_env env, const Args& a) {
  const int mode = static_cast<int>(a.integer(0, "mode", 0, 2));
  Span<float> x = a.f32(1, "a"), y = a.f32(2, "b"), out = a.f32(3, "out");
  const ConvParams p = read_params(a, 4);
  Span<float> bias = a.f32_or_null(5, "bias");
  const int act = a.count() > 6 ? static_cast<int>(a.integer(6, "act", 0, 5)) : 0;
  const float alpha = a.count() > 7 ? static_cast<float>(a.number(7, "alpha")) : 0.f;
  const int64_t weights_id = a.count() > 8 ? a.integer(8, "weightsId", 0) : 0;
  if (mode != 0 && (bias.data || act != 0)) a.fail("bias and act expect null and 0 outside mode 0 (forward)");
  if (mode != 0 && weights_id != 0) a.fail("weightsId expects 0 outside mode 0 (forward), but received " + std::to_string(weights_id));
  // Every array's length against the geometry.
  const int64_t in_size = product(a, {p.n, p.h, p.w, p.c}, "x"), out_size = product(a, {p.n, p.oh, p.ow, p.o}, "y");
  const int64_t filter_size = product(a, {p.kh, p.kw, p.c / p.groups, p.o}, "filter");
  const int64_t sizes[3][3] = {{in_size, filter_size, out_size}, {out_size, filter_size, in_size},
                               {in_size, out_size, filter_size}};
  const char* const shapes[3][3] = {{"x [n,h,w,c]", "filter [kh,kw,c/groups,o]", "y [n,oh,ow,o]"},
                                    {"dy [n,oh,ow,o]", "filter [kh,kw,c/groups,o]", "dx [n,h,w,c]"},
                                    {"x [n,h,w,c]", "dy [n,oh,ow,o]", "dfilter [kh,kw,c/groups,o]"}};
  expect_length(a, x, sizes[mode][0], "a", shapes[mode][0]);
  expect_length(a, y, sizes[mode][1], "b", shapes[mode][1]);
  expect_length(a, out, sizes[mode][2], "out", shapes[mode][2]);
  expect_length(a, bias, p.o, "bias", "[o]");

  ConvPlan* plan = checked_plan(a, mode, p, bias.data != nullptr, act, alpha);
  auto& eng = cpu_engine();
  auto& s = cpu_stream();
  memory::desc src({p.n, p.c, p.h, p.w}, dt::f32, tag::nhwc);
  memory::desc dst({p.n, p.o, p.oh, p.ow}, dt::f32, tag::nhwc);
  if (mode == 0) {
    memory xs(src, eng, x.data), ys(dst, eng, out.data), wu(plan->user_wei, eng, y.data);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, xs},
                                            {DNNL_ARG_WEIGHTS, plan->reorder_wei ? internal_weights(*plan, wu, weights_id, s) : wu},
                                            {DNNL_ARG_DST, ys}};
    if (bias.data) args.insert({DNNL_ARG_BIAS, memory(memory::desc({p.o}, dt::f32, tag::x), eng, bias.data)});
    plan->prim.execute(s, args);
  } else if (mode == 1) {
    memory dys(dst, eng, x.data), dxs(src, eng, out.data), wu(plan->user_wei, eng, y.data);
    if (plan->reorder_wei) plan->wei_reorder.execute(s, wu, *plan->wei_mem);
    plan->prim.execute(s, {{DNNL_ARG_DIFF_DST, dys},
                           {DNNL_ARG_WEIGHTS, plan->reorder_wei ? *plan->wei_mem : wu},
                           {DNNL_ARG_DIFF_SRC, dxs}});
  } else {
    memory xs(src, eng, x.data), dys(dst, eng, y.data), wu(plan->user_wei, eng, out.data);
    plan->prim.execute(s, {{DNNL_ARG_SRC, xs},
                           {DNNL_ARG_DIFF_DST, dys},
                           {DNNL_ARG_DIFF_WEIGHTS, plan->reorder_wei ? *plan->wei_mem : wu}});
    if (plan->reorder_wei) plan->wei_reorder.execute(s, *plan->wei_mem, wu);
  }
  s.wait();
  return undefined(env);
}

napi_value conv_impl(napi_env env, const Args& a) {
  const int mode = static_cast<int>(a.integer(0, "mode", 0, 2));
  const ConvParams p = read_params(a, 1);
  const bool has_bias = a.integer(2, "hasBias", 0, 1) != 0;
  const int act = static_cast<int>(a.integer(3, "act", 0, 5));
  ConvPlan* plan = checked_plan(a, mode, p, has_bias, act, 0.f);
  napi_value s;
  napi_create_string_utf8(env, plan->impl.c_str(), plan->impl.size(), &s);
  return s;
}

}  // namespace scconv
