// A blocking HTTP/1.1 client for tests of servers on 127.0.0.1: one request per connection, the
// reply read to EOF (the requests say "Connection: close"), 5 s receive timeout so a silent
// server fails the test instead of hanging it. Header-only; include as
// "support/http_client.hpp". POSIX only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace peat::test {

// Sends `request` as is and returns every byte of the reply ("" when nothing answered).
inline std::string http_exchange(std::uint16_t port, const std::string& request) {
  std::string raw;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return raw;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t off = 0;
    while (off < request.size()) {
      auto n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    char buf[16384];
    for (;;) {
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return raw;
}

struct HttpReply {
  int status = 0;  // 0: the server could not be reached or the reply was not HTTP/1.1
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

inline HttpReply parse_http_reply(const std::string& raw) {
  HttpReply reply;
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::atoi(raw.substr(9, 3).c_str());
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    auto next = raw.find("\r\n", line);
    auto colon = raw.find(':', line);
    if (colon != std::string::npos && colon < next) {
      std::string name = raw.substr(line, colon - line);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = raw.substr(colon + 1, next - colon - 1);
      while (!value.empty() && value.front() == ' ') value.erase(value.begin());
      reply.headers[name] = value;
    }
    line = next + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

inline HttpReply http_request(
    std::uint16_t port, const std::string& method, const std::string& target,
    const std::string& body = "",
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  return parse_http_reply(http_exchange(port, request));
}

}  // namespace peat::test
