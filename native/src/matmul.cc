// Batched matrix product through oneDNN's matmul (SCConv's CRU runs its 1×1 convolutions as
// matrix products). src/kernels/matmul.ts calls:
//
//   matMul(a, b, out, batchA, batchB, m, k, n, transposeA, transposeB)
//     out [batch, m, n] = a · b, a [batchA, m, k] ([batchA, k, m] when transposed), b [batchB, k, n]
//     ([batchB, n, k] when transposed); the batches are equal or one of them is 1 (broadcast).
//
// And matmul_2d (kernels.h), for kernels that read or write column blocks of a wider matrix in
// place (cru.cc: the CRU's squeezes read their part of x's channels).

#include "kernels.h"
#include "onednn.h"

#include <algorithm>
#include <memory>
#include <initializer_list>
#include <string>
#include <tuple>
#include <unordered_map>

namespace scconv {
namespace {

// One cached primitive per geometry (creating one JIT-compiles its kernel), for both entries below;
// their keys start with the entry ("3d" / "2d") so the two never collide.
struct MatMulPlan {
  dnnl::matmul prim;
  memory::desc a, b, c;
};
std::unordered_map<std::string, std::unique_ptr<MatMulPlan>> matmul_plans;

std::string plan_key(const char* kind, std::initializer_list<int64_t> values) {
  std::string key = kind;
  for (int64_t v : values) key += "," + std::to_string(v);
  return key;
}

// out = a·b (out += a·b when accumulate) through the primitive cached under `key`, built from the
// descriptors that make_descs() returns on first use.
template <typename MakeDescs>
void run_matmul(const std::string& key, MakeDescs make_descs, bool accumulate, const float* a, const float* b,
                float* out) {
  auto it = matmul_plans.find(key);
  if (it == matmul_plans.end()) {
    auto plan = std::make_unique<MatMulPlan>();
    std::tie(plan->a, plan->b, plan->c) = make_descs();
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::desc d(plan->a, plan->b, plan->c);
    plan->prim = dnnl::matmul(dnnl::matmul::primitive_desc(d, attr, cpu_engine()));
    it = matmul_plans.emplace(key, std::move(plan)).first;
  }
  auto* p = it->second.get();
  auto& eng = cpu_engine();
  memory am(p->a, eng, const_cast<float*>(a)), bm(p->b, eng, const_cast<float*>(b)), cm(p->c, eng, out);
  p->prim.execute(cpu_stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  cpu_stream().wait();
}

}  // namespace

void matmul_2d(const float* a, bool ta, int64_t lda, const float* b, bool tb, int64_t ldb, float* c, int64_t ldc,
               int64_t m, int64_t k, int64_t n, bool accumulate) {
  run_matmul(plan_key("2d", {ta, lda, tb, ldb, ldc, m, k, n, accumulate}), [&] {
    return std::make_tuple(memory::desc({m, k}, dt::f32, ta ? memory::dims{1, lda} : memory::dims{lda, 1}),
                           memory::desc({k, n}, dt::f32, tb ? memory::dims{1, ldb} : memory::dims{ldb, 1}),
                           memory::desc({m, n}, dt::f32, memory::dims{ldc, 1}));
  }, accumulate, a, b, c);
}

napi_value mat_mul(napi_env env, const Args& a) {
  Span<float> xs = a.f32(0, "a"), ys = a.f32(1, "b"), outs = a.f32(2, "out");
  const int64_t ba = a.integer(3, "batchA", 1), bb = a.integer(4, "batchB", 1), m = a.integer(5, "m", 1),
                k = a.integer(6, "k", 1), n = a.integer(7, "n", 1);
  const bool ta = a.integer(8, "transposeA", 0, 1) != 0, tb = a.integer(9, "transposeB", 0, 1) != 0;
  if (ba != bb && ba != 1 && bb != 1) {
    a.fail("batchA and batchB expect equal batches or a batch of 1, but received " + std::to_string(ba) + " and " +
           std::to_string(bb));
  }
  expect_length(a, xs, product(a, {ba, m, k}, "a"), "a", "[batchA, m, k]");
  expect_length(a, ys, product(a, {bb, k, n}, "b"), "b", "[batchB, k, n]");
  expect_length(a, outs, product(a, {std::max(ba, bb), m, n}, "out"), "out", "[max(batchA, batchB), m, n]");
  run_matmul(plan_key("3d", {ba, bb, m, k, n, ta, tb}), [&] {
    return std::make_tuple(
        memory::desc({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1}),
        memory::desc({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1}),
        memory::desc({std::max(ba, bb), m, n}, dt::f32, memory::dims{m * n, n, 1}));
  }, false, xs.data, ys.data, outs.data);
  return undefined(env);
}

}  // namespace scconv
