// The native kernel pack for the 'native' TensorFlow.js backend (src/kernels/native_backend.ts):
// registers every entry point under its JS name (src/kernels/native_addon.ts types them), plus
// the thread, allocator and version helpers below.
//
// Convolutions and matrix products run through oneDNN; elementwise ops, reductions, batch norm,
// copies and pooling are OpenMP loops on the same thread pool. One file per kernel family,
// mirroring src/kernels/: conv.cc, matmul.cc, elementwise.cc, reduce.cc, batch_norm.cc, copy.cc,
// pool.cc, sru.cc, cru.cc, sgd.cc; args.cc reads and checks every argument and turns every failure into a JS Error.

#include "kernels.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <string>

namespace scconv {
namespace {

// setThreads(n): the OpenMP thread count (oneDNN's too), 1 to 1024.
napi_value set_threads(napi_env env, const Args& a) {
  omp_set_num_threads(static_cast<int>(a.integer(0, "n", 1, 1024)));
  return undefined(env);
}

// getThreads() -> the OpenMP thread count.
napi_value get_threads(napi_env env, const Args&) {
  napi_value v;
  napi_create_int32(env, omp_get_max_threads(), &v);
  return v;
}

// tuneMalloc(): keep freed tensor buffers in the heap for reuse. A training step allocates and frees
// gigabytes in multi-megabyte tensors; glibc serves those from fresh mmap()s and returns them to the
// OS on free, so every new tensor pays page faults (here ~10 ms for 8 MB, more than the math on it).
// Raising the mmap and trim thresholds makes calloc() reuse freed heap memory instead. Returns
// false where unsupported.
napi_value tune_malloc(napi_env env, const Args&) {
  bool ok = false;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
       mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1;
#endif
  napi_value v;
  napi_get_boolean(env, ok, &v);
  return v;
}

// version() -> "oneDNN major.minor.patch".
napi_value version(napi_env env, const Args&) {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch);
  napi_value out;
  napi_create_string_utf8(env, s.c_str(), s.size(), &out);
  return out;
}

// Static storage: each JS function keeps a pointer to its Entry.
const Entry kEntries[] = {
    {"conv", conv},           {"convImpl", conv_impl},          {"matMul", mat_mul},
    {"binary", binary},       {"unary", unary},                 {"addN", add_n},
    {"reduce", reduce},       {"broadcast", broadcast},         {"sumProduct", sum_product},
    {"batchNorm", batch_norm}, {"batchNormGrad", batch_norm_grad},
    {"copyRows", copy_rows},  {"slice", slice},
    {"blockReduce", block_reduce}, {"blockSpread", block_spread},
    {"sruForward", sru_forward}, {"sruBackward", sru_backward},
    {"cruSqueeze", cru_squeeze}, {"cruSqueezeGrad", cru_squeeze_grad},
    {"cruFuse", cru_fuse},    {"cruFuseGrad", cru_fuse_grad},
    {"scconvInference", scconv_inference},
    {"sgdMomentum", sgd_momentum},
    {"setThreads", set_threads}, {"getThreads", get_threads}, {"tuneMalloc", tune_malloc}, {"version", version},
};

napi_value init(napi_env env, napi_value exports) {
  for (const Entry& e : kEntries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, guarded, const_cast<Entry*>(&e), &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace
}  // namespace scconv

NAPI_MODULE(NODE_GYP_MODULE_NAME, scconv::init)
