// Reading and checking the arguments of every addon entry point.
//
// The addon writes through raw pointers into arrays that JavaScript hands it, so nothing is trusted:
// each entry reads its arguments through Args, which checks the kind of every argument
// (Float32Array, Int32Array, finite number, integer in range), and the entry then checks every
// array's length against the shapes it was given (expect_length, reach). A failed check throws
// ArgError; guarded() turns it, and any oneDNN or allocation error, into one JavaScript Error
//   "scconv_native.<op>: <what> expects <valid>, but received <value>."
// with code "SCCONV_NATIVE" (the JS side tells addon failures from its own errors by it), before
// any memory is touched. No entry continues after a failed check.

#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace scconv {

// A bad argument: the message names the entry, the argument and the value received.
class ArgError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A typed array's data and element count (data is nullptr for an optional argument left null).
template <typename T>
struct Span {
  T* data = nullptr;
  int64_t size = 0;
};

// Largest size or index any entry accepts (2^40 elements: far above any tensor, far below overflow).
constexpr int64_t kMaxSize = int64_t{1} << 40;

class Args {
 public:
  // Reads the arguments and the entry's name (op) of the call `info`.
  Args(napi_env env, napi_callback_info info, const char* op);

  const char* op() const { return op_; }
  size_t count() const { return argc_; }

  // A Float32Array (required) / a Float32Array, or null or undefined (data = nullptr).
  Span<float> f32(size_t i, const char* name) const;
  Span<float> f32_or_null(size_t i, const char* name) const;
  // An Int32Array (required).
  Span<int32_t> i32(size_t i, const char* name) const;
  // A finite number.
  double number(size_t i, const char* name) const;
  // An integral number in [lo, hi].
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi = kMaxSize) const;

  // Throw ArgError "scconv_native.<op>: <what>".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string describe(size_t i) const;  // the received value, for messages
  template <typename T>
  Span<T> typed(size_t i, const char* name, napi_typedarray_type want, const char* kind, bool optional) const;

  napi_env env_;
  const char* op_;
  static constexpr size_t kMax = 20;
  size_t argc_ = kMax;
  napi_value argv_[kMax];
};

// Product of sizes, each in [0, kMaxSize]; throws when it exceeds kMaxSize.
int64_t product(const Args& a, std::initializer_list<int64_t> sizes, const char* what);

// The array must hold exactly `expected` elements (the size its shape implies).
template <typename T>
void expect_length(const Args& a, const Span<T>& s, int64_t expected, const char* name, const char* shape) {
  if (s.data != nullptr && s.size != expected) {
    a.fail(std::string(name) + " expects " + std::to_string(expected) + " elements (" + shape +
           "), but received an array of " + std::to_string(s.size));
  }
}

// The array must reach element `last` (strided reads/writes): `last` < size.
template <typename T>
void expect_reach(const Args& a, const Span<T>& s, int64_t last, const char* name) {
  if (last >= s.size) {
    a.fail(std::string(name) + " expects at least " + std::to_string(last + 1) +
           " elements for the given rows, strides and offset, but received an array of " +
           std::to_string(s.size));
  }
}

// An entry point: its JS name and its body (which reads its arguments through Args).
struct Entry {
  const char* name;
  napi_value (*body)(napi_env env, const Args& a);
};

// The N-API callback of every entry (the Entry comes as the function's data): runs the body; any
// ArgError, oneDNN error or failed allocation becomes a JS Error "scconv_native.<name>: ..." with
// code SCCONV_NATIVE, and the call returns nothing.
napi_value guarded(napi_env env, napi_callback_info info);

napi_value undefined(napi_env env);

}  // namespace scconv
