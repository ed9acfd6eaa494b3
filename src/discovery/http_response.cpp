#include "http_response.hpp"

#include <charconv>

namespace peat::discovery::http {
namespace {

Error bad(const std::string& why) {
  return make_error("HTTP_BAD_RESPONSE", why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<std::string> dechunk(std::string_view in) {
  std::string out;
  // Each chunk consumes at least 3 bytes, so the loop ends.
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return bad("chunk size line not terminated");
    std::string_view size_text = in.substr(0, eol);
    if (auto semi = size_text.find(';'); semi != std::string_view::npos) {
      size_text = size_text.substr(0, semi);  // chunk extensions are ignored
    }
    size_text = trim(size_text);
    std::size_t size = 0;
    auto [end, ec] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size()) {
      return bad("bad chunk size '" + std::string(size_text) + "'");
    }
    in.remove_prefix(eol + 2);
    if (size == 0) return out;  // trailers, if any, are ignored
    if (in.size() < size + 2) return bad("chunk runs past the end");
    if (in.substr(size, 2) != "\r\n") return bad("chunk not followed by CRLF");
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

Result<Response> parse_response(std::string_view raw) {
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return bad("no end of headers");
  std::string_view head = raw.substr(0, head_end);
  std::string_view rest = raw.substr(head_end + 4);

  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ') {
    return bad("bad status line '" + std::string(status_line.substr(0, 64)) + "'");
  }
  Response r;
  auto code = status_line.substr(9, 3);
  auto [end, ec] = std::from_chars(code.data(), code.data() + 3, r.status);
  if (ec != std::errc() || end != code.data() + 3 || r.status < 100) return bad("bad status code");

  while (!head.empty()) {
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return bad("bad header line '" + std::string(line.substr(0, 64)) + "'");
    }
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    r.headers[name] = std::string(trim(line.substr(colon + 1)));
  }

  if (auto te = r.headers.find("transfer-encoding");
      te != r.headers.end() && te->second.find("chunked") != std::string::npos) {
    auto body = dechunk(rest);
    if (!body) return body.error();
    r.body = std::move(*body);
  } else if (auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    std::size_t len = 0;
    const std::string& t = cl->second;
    auto [e2, ec2] = std::from_chars(t.data(), t.data() + t.size(), len);
    if (t.empty() || ec2 != std::errc() || e2 != t.data() + t.size()) {
      return bad("bad Content-Length '" + t + "'");
    }
    if (rest.size() < len) return bad("body shorter than Content-Length");
    r.body = std::string(rest.substr(0, len));
  } else {
    r.body = std::string(rest);
  }
  return r;
}

}  // namespace peat::discovery::http
