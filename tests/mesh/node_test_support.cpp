#include "mesh/node_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace peat::mesh::testing {

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;

  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t off = 0;
    while (off < request.size()) {
      auto n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    char buf[16384];
    for (;;) {  // Connection: close, so the reply ends at EOF
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);

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

std::pair<std::string, std::string> firmware_form(const std::string& firmware,
                                                  const std::string& version) {
  const std::string boundary = "node-test-7f3a91";
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"fw.bin\"" +
                     "\r\nContent-Type: application/octet-stream\r\n\r\n" + firmware + "\r\n--" +
                     boundary + "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n" +
                     version + "\r\n--" + boundary + "--\r\n";
  return {body, "multipart/form-data; boundary=" + boundary};
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/peat_node_test_XXXXXX";
  path = ::mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

class CapturedLog::Sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

CapturedLog::CapturedLog() : sink_(std::make_shared<Sink>()), previous_(spdlog::default_logger()) {
  auto logger = std::make_shared<spdlog::logger>("captured", sink_);
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

CapturedLog::~CapturedLog() {
  spdlog::set_default_logger(previous_);
}

std::vector<std::string> CapturedLog::lines() const {
  return sink_->copy();
}

std::optional<std::string> CapturedLog::after(const std::string& prefix) const {
  for (const auto& line : sink_->copy()) {
    auto at = line.find(prefix);
    if (at != std::string::npos) return line.substr(at + prefix.size());
  }
  return std::nullopt;
}

}  // namespace peat::mesh::testing
