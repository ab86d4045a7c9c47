// SGD with momentum and coupled weight decay (src/train/sgd.ts) as one pass over a weight, where
// the tfjs composition takes five kernel calls (the decay product and its sum, the momentum product,
// the velocity sum, the step) and allocates a tensor for each. src/kernels/sgd.ts calls:
//
//   sgdMomentum(w, v, g, wOut, vOut, lr, momentum, decay)
//     vOut = momentum·v + (g + decay·w)      (the decay term only when decay ≠ 0)
//     wOut = w − lr·vOut                     (torch.optim.SGD: dampening 0, no Nesterov)
//   with the composition's float operations in its order, so both give the same bits.

#include "kernels.h"

namespace scconv {

napi_value sgd_momentum(napi_env env, const Args& a) {
  Span<float> w = a.f32(0, "w"), v = a.f32(1, "v"), g = a.f32(2, "g");
  Span<float> w_out = a.f32(3, "wOut"), v_out = a.f32(4, "vOut");
  const float lr = static_cast<float>(a.number(5, "lr"));
  const float momentum = static_cast<float>(a.number(6, "momentum"));
  const float decay = static_cast<float>(a.number(7, "decay"));
  expect_length(a, v, w.size, "v", "the shape of w");
  expect_length(a, g, w.size, "g", "the shape of w");
  expect_length(a, w_out, w.size, "wOut", "the shape of w");
  expect_length(a, v_out, w.size, "vOut", "the shape of w");
  const int64_t total = w.size;
  const float* wp = w.data;
  const float* vp = v.data;
  const float* gp = g.data;
  float* wo = w_out.data;
  float* vo = v_out.data;
  if (decay != 0.f) {
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t k = 0; k < total; ++k) {
      const float gk = gp[k] + wp[k] * decay;
      const float vk = vp[k] * momentum + gk;
      vo[k] = vk;
      wo[k] = wp[k] - vk * lr;
    }
  } else {
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t k = 0; k < total; ++k) {
      const float vk = vp[k] * momentum + gp[k];
      vo[k] = vk;
      wo[k] = wp[k] - vk * lr;
    }
  }
  return undefined(env);
}

}  // namespace scconv
