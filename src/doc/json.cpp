// to_json: the visible state as JSON text (keys sorted by UTF-8 bytes).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "peat/doc/document.hpp"

namespace peat::doc {

namespace {

void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void put_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {
    out += '0';  // also -0, as JavaScript prints it
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    out += buf;
    return;
  }
  char buf[32];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  out += buf;
}

void put_scalar(std::string& out, const ScalarValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          put_double(out, x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, x);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          put_string(out, to_base64(x));
        } else if constexpr (std::is_same_v<T, Counter>) {
          out += std::to_string(x.value);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          out += std::to_string(x.millis);
        } else {
          out += "null";  // unknown value types have no JSON form
        }
      },
      v);
}

void put_value(std::string& out, Document& doc, const Value& v, int depth);

void put_object(std::string& out, Document& doc, const ObjectRef& ref, int depth) {
  if (depth > 512) {
    out += "null";
    return;
  }
  switch (ref.type) {
    case ObjType::kText:
      put_string(out, doc.text(ref.id));
      return;
    case ObjType::kList: {
      out += '[';
      bool first = true;
      for (const auto& v : doc.list_values(ref.id)) {
        if (!first) out += ',';
        first = false;
        put_value(out, doc, v, depth + 1);
      }
      out += ']';
      return;
    }
    default: {
      out += '{';
      bool first = true;
      for (const auto& k : doc.keys(ref.id)) {
        auto v = doc.get(ref.id, k);
        if (!v) continue;
        if (!first) out += ',';
        first = false;
        put_string(out, k);
        out += ':';
        put_value(out, doc, *v, depth + 1);
      }
      out += '}';
      return;
    }
  }
}

void put_value(std::string& out, Document& doc, const Value& v, int depth) {
  if (const auto* r = std::get_if<ObjectRef>(&v)) {
    put_object(out, doc, *r, depth);
  } else {
    put_scalar(out, std::get<ScalarValue>(v));
  }
}

}  // namespace

std::string to_json(Document& doc) {
  std::string out;
  put_object(out, doc, ObjectRef{kRoot, ObjType::kMap}, 0);
  return out;
}

}  // namespace peat::doc
