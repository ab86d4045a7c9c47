// Argument reading and checking for the addon's entry points (see args.h).

#include "args.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <new>

namespace scconv {

Args::Args(napi_env env, napi_callback_info info, const char* op) : env_(env), op_(op) {
  size_t given = kMax;
  napi_get_cb_info(env, info, &given, argv_, nullptr, nullptr);
  if (given > kMax) fail("expects at most " + std::to_string(kMax) + " arguments, but received " + std::to_string(given));
  argc_ = given;
  // napi fills argv slots past the given count with undefined, so reading them gives "undefined".
}

void Args::fail(const std::string& what) const { throw ArgError(std::string("scconv_native.") + op_ + ": " + what); }

namespace {

const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "an Int8Array";
    case napi_uint8_array: return "a Uint8Array";
    case napi_uint8_clamped_array: return "a Uint8ClampedArray";
    case napi_int16_array: return "an Int16Array";
    case napi_uint16_array: return "a Uint16Array";
    case napi_int32_array: return "an Int32Array";
    case napi_uint32_array: return "a Uint32Array";
    case napi_float32_array: return "a Float32Array";
    case napi_float64_array: return "a Float64Array";
    default: return "a typed array";
  }
}

}  // namespace

std::string Args::describe(size_t i) const {
  napi_valuetype type = napi_undefined;
  if (i >= argc_) return "nothing (argument missing)";
  napi_typeof(env_, argv_[i], &type);
  switch (type) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_string: return "a string";
    case napi_bigint: return "a bigint";
    case napi_number: {
      double v = 0;
      napi_get_value_double(env_, argv_[i], &v);
      std::string s = std::to_string(v);
      // Trim "3.000000" to "3" and "0.500000" to "0.5".
      if (s.find('.') != std::string::npos) {
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
      }
      return s;
    }
    case napi_object: {
      bool is_typed = false;
      napi_is_typedarray(env_, argv_[i], &is_typed);
      if (!is_typed) return "an object";
      napi_typedarray_type kind;
      size_t n = 0;
      napi_get_typedarray_info(env_, argv_[i], &kind, &n, nullptr, nullptr, nullptr);
      return std::string(typed_array_name(kind)) + " of length " + std::to_string(n);
    }
    default: return "a function or symbol";
  }
}

template <typename T>
Span<T> Args::typed(size_t i, const char* name, napi_typedarray_type want, const char* kind, bool optional) const {
  Span<T> s;
  napi_valuetype type = napi_undefined;
  if (i < argc_) napi_typeof(env_, argv_[i], &type);
  if (optional && (type == napi_null || type == napi_undefined)) return s;
  bool is_typed = false;
  if (i < argc_) napi_is_typedarray(env_, argv_[i], &is_typed);
  napi_typedarray_type got;
  size_t n = 0;
  void* data = nullptr;
  if (!is_typed || napi_get_typedarray_info(env_, argv_[i], &got, &n, &data, nullptr, nullptr) != napi_ok ||
      got != want) {
    fail(std::string(name) + " (argument " + std::to_string(i) + ") expects " + kind +
         (optional ? " or null" : "") + ", but received " + describe(i));
  }
  s.data = static_cast<T*>(data);
  s.size = static_cast<int64_t>(n);
  // A zero-length array may have no backing store; give it a valid pointer so nullptr means "absent".
  if (s.data == nullptr) {
    static T empty[1];
    s.data = empty;
  }
  return s;
}

Span<float> Args::f32(size_t i, const char* name) const {
  return typed<float>(i, name, napi_float32_array, "a Float32Array", false);
}

Span<float> Args::f32_or_null(size_t i, const char* name) const {
  return typed<float>(i, name, napi_float32_array, "a Float32Array", true);
}

Span<int32_t> Args::i32(size_t i, const char* name) const {
  return typed<int32_t>(i, name, napi_int32_array, "an Int32Array", false);
}

double Args::number(size_t i, const char* name) const {
  double v = 0;
  napi_valuetype type = napi_undefined;
  if (i < argc_) napi_typeof(env_, argv_[i], &type);
  if (type != napi_number || napi_get_value_double(env_, argv_[i], &v) != napi_ok || !std::isfinite(v)) {
    fail(std::string(name) + " (argument " + std::to_string(i) + ") expects a finite number, but received " +
         describe(i));
  }
  return v;
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) const {
  const double v = number(i, name);
  if (v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi)) {
    const std::string range = hi == kMaxSize ? "≥ " + std::to_string(lo)
                                             : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    fail(std::string(name) + " (argument " + std::to_string(i) + ") expects an integer " + range + ", but received " +
         describe(i));
  }
  return static_cast<int64_t>(v);
}

int64_t product(const Args& a, std::initializer_list<int64_t> sizes, const char* what) {
  int64_t p = 1;
  for (int64_t s : sizes) {
    if (s < 0 || s > kMaxSize) a.fail(std::string(what) + " expects sizes in [0, 2^40], but received " + std::to_string(s));
    if (s != 0 && p > kMaxSize / s) a.fail(std::string(what) + " expects at most 2^40 elements, but the sizes multiply past it");
    p *= s;
  }
  return p;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value guarded(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  const Entry* entry = static_cast<const Entry*>(data);
  std::string message;
  try {
    Args args(env, info, entry->name);
    return entry->body(env, args);
  } catch (const ArgError& e) {
    message = e.what();
  } catch (const dnnl::error& e) {
    message = std::string("scconv_native.") + entry->name + ": oneDNN failed (status " + std::to_string(e.status) +
              "): " + e.what();
  } catch (const std::bad_alloc&) {
    message = std::string("scconv_native.") + entry->name + ": out of memory";
  } catch (const std::exception& e) {
    message = std::string("scconv_native.") + entry->name + ": " + e.what();
  }
  message += ".";
  napi_throw_error(env, "SCCONV_NATIVE", message.c_str());
  return nullptr;
}

}  // namespace scconv
