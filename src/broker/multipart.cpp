#include "peat/broker/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace peat::broker {
namespace {

Error bad(std::string why) {
  return make_error("BAD_MULTIPART", std::move(why));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Value of `param` in a header like `form-data; name="x"; filename="y"` (quoted or bare).
std::optional<std::string> header_param(std::string_view header, std::string_view param) {
  std::size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string_view::npos) {
    ++pos;
    auto rest = trim(header.substr(pos));
    auto eq = rest.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(rest.substr(0, eq))) != param) continue;
    auto value = rest.substr(eq + 1);
    if (!value.empty() && value.front() == '"') {
      auto close = value.find('"', 1);
      if (close == std::string_view::npos) return std::nullopt;
      return std::string(value.substr(1, close - 1));
    }
    return std::string(trim(value.substr(0, value.find(';'))));
  }
  return std::nullopt;
}

}  // namespace

Result<std::map<std::string, FormPart>> parse_multipart(std::string_view content_type,
                                                        std::string_view body) {
  if (lower(trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data") {
    return bad("content type is not multipart/form-data");
  }
  auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70)
    return bad("missing or bad boundary");
  const std::string delimiter = "--" + *boundary;

  std::map<std::string, FormPart> parts;
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos) return bad("no boundary in body");
  pos += delimiter.size();
  for (;;) {
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return bad("boundary not followed by CRLF");
    pos += 2;
    auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return bad("part headers not terminated");
    std::string_view headers = body.substr(pos, headers_end - pos);
    auto next = body.find("\r\n" + delimiter, headers_end + 4);
    if (next == std::string_view::npos) return bad("part not terminated by a boundary");
    std::string_view content = body.substr(headers_end + 4, next - headers_end - 4);

    std::optional<std::string> name, filename;
    std::size_t line_start = 0;
    while (line_start <= headers.size()) {
      auto line_end = std::min(headers.find("\r\n", line_start), headers.size());
      auto line = headers.substr(line_start, line_end - line_start);
      auto colon = line.find(':');
      if (colon != std::string_view::npos &&
          lower(trim(line.substr(0, colon))) == "content-disposition") {
        name = header_param(line.substr(colon + 1), "name");
        filename = header_param(line.substr(colon + 1), "filename");
      }
      line_start = line_end + 2;
    }
    if (!name) return bad("part without a Content-Disposition name");
    parts.emplace(*name, FormPart{std::string(content), filename.value_or("")});
    pos = next + 2 + delimiter.size();
  }
}

}  // namespace peat::broker
