// Strict, non-throwing field reader for decoding outside JSON (beacons, data packets).
// Mirrors serde rules: required fields must exist with the right type, optional fields may be
// absent or null, unsigned integers must fit their target type, unknown fields are ignored.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/common/result.hpp"

namespace peat::beacon::detail {

class JsonReader {
 public:
  JsonReader(const nlohmann::json& j, std::string what, std::string code)
      : j_(j), what_(std::move(what)), code_(std::move(code)) {
    if (!j_.is_object()) fail(what_ + " is not a JSON object");
  }

  bool ok() const { return !error_; }
  Error error() const { return *error_; }

  bool required_string(const char* key, std::string& out) { return str(key, out, true); }
  bool optional_string(const char* key, std::string& out) { return str(key, out, false); }
  bool required_bool(const char* key, bool& out) { return boolean(key, out, true); }
  bool optional_bool(const char* key, bool& out) { return boolean(key, out, false); }
  bool required_double(const char* key, double& out) { return number(key, out, true); }
  bool optional_double(const char* key, double& out) { return number(key, out, false); }
  template <typename T>
  bool required_uint(const char* key, T& out) {
    return uint(key, out, true);
  }
  template <typename T>
  bool optional_uint(const char* key, T& out) {
    return uint(key, out, false);
  }

  const nlohmann::json* required_object(const char* key) { return object(key, true); }
  const nlohmann::json* optional_object(const char* key) { return object(key, false); }
  // Present-but-null counts as present here: callers decide what null means.
  const nlohmann::json* find(const char* key) {
    if (error_) return nullptr;
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  bool optional_string_array(const char* key, std::vector<std::string>& out) {
    const auto* v = present(key, false);
    if (!v) return false;
    if (!v->is_array()) return fail_type(key, "an array");
    std::vector<std::string> tmp;
    for (const auto& e : *v) {
      if (!e.is_string()) return fail_type(key, "an array of strings");
      tmp.push_back(e.get<std::string>());
    }
    out = std::move(tmp);
    return true;
  }

  bool optional_string_map(const char* key, std::map<std::string, std::string>& out) {
    const auto* v = present(key, false);
    if (!v) return false;
    if (!v->is_object()) return fail_type(key, "an object");
    std::map<std::string, std::string> tmp;
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it.value().is_string()) return fail_type(key, "a map of strings");
      tmp[it.key()] = it.value().get<std::string>();
    }
    out = std::move(tmp);
    return true;
  }

  bool fail(std::string message) {
    if (!error_) error_ = make_error(code_, std::move(message));
    return false;
  }

 private:
  const nlohmann::json* present(const char* key, bool required) {
    if (error_) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) fail(what_ + ": missing field `" + key + "`");
      return nullptr;
    }
    return &*it;
  }
  bool fail_type(const char* key, const char* expected) {
    return fail(what_ + ": field `" + key + "` must be " + expected);
  }
  bool str(const char* key, std::string& out, bool required) {
    const auto* v = present(key, required);
    if (!v) return false;
    if (!v->is_string()) return fail_type(key, "a string");
    out = v->get<std::string>();
    return true;
  }
  bool boolean(const char* key, bool& out, bool required) {
    const auto* v = present(key, required);
    if (!v) return false;
    if (!v->is_boolean()) return fail_type(key, "a boolean");
    out = v->get<bool>();
    return true;
  }
  bool number(const char* key, double& out, bool required) {
    const auto* v = present(key, required);
    if (!v) return false;
    if (!v->is_number()) return fail_type(key, "a number");
    out = v->get<double>();
    return true;
  }
  template <typename T>
  bool uint(const char* key, T& out, bool required) {
    const auto* v = present(key, required);
    if (!v) return false;
    if (!v->is_number_unsigned()) {
      if (v->is_number_integer()) return fail(what_ + ": field `" + key + "` is negative");
      return fail_type(key, "an unsigned integer");
    }
    const auto raw = v->get<std::uint64_t>();
    if (raw > std::numeric_limits<T>::max()) {
      return fail(what_ + ": field `" + key + "` out of range");
    }
    out = static_cast<T>(raw);
    return true;
  }
  const nlohmann::json* object(const char* key, bool required) {
    const auto* v = present(key, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
      fail_type(key, "an object");
      return nullptr;
    }
    return v;
  }

  const nlohmann::json& j_;
  std::string what_;
  std::string code_;
  std::optional<Error> error_;
};

}  // namespace peat::beacon::detail
