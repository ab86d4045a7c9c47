// The one oneDNN CPU engine and stream every oneDNN primitive here runs on (conv.cc, matmul.cc).

#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace scconv {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

inline dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

inline dnnl::stream& cpu_stream() {
  static dnnl::stream s(cpu_engine());
  return s;
}

}  // namespace scconv
