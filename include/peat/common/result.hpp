// Result<T>: a value or an Error, the return type of every fallible call in peat-mesh.
// Decoders of outside bytes return Result instead of throwing, so bad input is an ordinary value.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace peat {

// A stable machine-readable code (e.g. "INVALID_SIGNATURE") and a human message.
struct Error {
  std::string code;
  std::string message;

  // "CODE: message", for logs and exceptions.
  std::string to_string() const { return code + ": " + message; }
  bool operator==(const Error&) const = default;
};

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T value_or(T fallback) const { return ok() ? std::get<0>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace peat

// Propagates an error from an expression returning Result<...>; evaluates to nothing.
#define PEAT_TRY_STATUS(expr)                               \
  do {                                                      \
    auto peat_try_status_ = (expr);                         \
    if (!peat_try_status_) return peat_try_status_.error(); \
  } while (0)
