// The broker over real sockets on 127.0.0.1: keep-alive, limits, malformed input, shutdown.
#include "peat/broker/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "broker/fake_backend.hpp"

namespace peat::broker {
namespace {

// A blocking client socket with a receive timeout, so a broken server fails the test, not hangs it.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Reads one response: headers plus Content-Length bytes of body.
  std::string read_response() {
    std::string data;
    char buf[4096];
    for (;;) {
      auto header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        auto cl = data.find("Content-Length: ");
        std::size_t len = cl == std::string::npos ? 0 : std::stoul(data.substr(cl + 16));
        if (data.size() >= header_end + 4 + len) return data.substr(0, header_end + 4 + len);
      }
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return data;
      data.append(buf, static_cast<std::size_t>(n));
    }
  }
  // True when the server closed the connection (recv returns 0).
  bool closed_by_peer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(BrokerConfig config) {
    config.bind_address = "127.0.0.1";
    config.port = 0;
    server = std::make_unique<BrokerServer>(loop, backend, config);
    ASSERT_TRUE(server->start().ok());
    thread = std::thread([this] { loop.run(); });
  }
  void TearDown() override {
    if (!thread.joinable()) return;
    std::promise<void> stopped;
    loop.post([&] {
      server->stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    loop.stop();
    thread.join();
  }

  runtime::IoLoop loop;
  testing::FakeBackend backend;
  std::unique_ptr<BrokerServer> server;
  std::thread thread;
};

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

TEST_F(ServerTest, ServesRoutesWithKeepAlive) {
  start({});
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  c.send("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r1 = c.read_response();
  EXPECT_EQ(status_of(r1), 200);
  EXPECT_NE(r1.find(R"({"node_id":"node-a","status":"healthy"})"), std::string::npos);
  c.send("PUT /api/v1/documents/c/d HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_EQ(status_of(c.read_response()), 200);
  c.send("GET /api/v1/documents/c/d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r3 = c.read_response();
  EXPECT_EQ(status_of(r3), 200);
  EXPECT_NE(r3.find(R"("document":{"a":1})"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, OversizedBodyIs413) {
  BrokerConfig config;
  config.max_body_bytes = 1024;
  start(config);
  Client c(server->port());
  c.send("PUT /api/v1/documents/c/d HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" +
         std::string(4096, 'x'));
  EXPECT_EQ(status_of(c.read_response()), 413);
  EXPECT_TRUE(backend.docs.empty());
}

TEST_F(ServerTest, BlobUploadHasItsOwnLimitAndDownloadIsStreamed) {
  BrokerConfig config;
  config.max_body_bytes = 1024;
  config.max_blob_bytes = 256 * 1024;
  start(config);
  std::string blob(100000, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 + i / 251);
  Client c(server->port());
  // Like curl with a large body: headers first, the body after "100 Continue".
  c.send("POST /api/v1/blobs HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(blob.size()) + "\r\n\r\n");
  auto go_on = c.read_response();
  EXPECT_EQ(status_of(go_on), 100);
  c.send(blob);
  auto added = c.read_response();
  ASSERT_EQ(status_of(added), 201) << added;
  ASSERT_EQ(backend.blobs.size(), 1u);
  const auto hash = backend.blobs.begin()->first;
  c.send("GET /api/v1/blobs/" + hash + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto got = c.read_response();
  EXPECT_EQ(status_of(got), 200);
  EXPECT_NE(got.find("Content-Type: application/octet-stream"), std::string::npos);
  EXPECT_NE(got.find("Content-Length: 100000"), std::string::npos);
  ASSERT_GE(got.size(), blob.size());
  EXPECT_EQ(got.substr(got.size() - blob.size()), blob);

  Client big(server->port());
  big.send("POST /api/v1/blobs HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" +
           std::string(300000, 'x'));
  EXPECT_EQ(status_of(big.read_response()), 413);
  Client doc(server->port());  // other routes keep the small limit
  doc.send("PUT /api/v1/documents/c/d HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" +
           std::string(4096, 'x'));
  EXPECT_EQ(status_of(doc.read_response()), 413);
  EXPECT_EQ(backend.blobs.size(), 1u);
}

TEST_F(ServerTest, GarbageRequestIs400AndServerKeepsServing) {
  start({});
  {
    Client bad(server->port());
    bad.send(std::string("\x01\x02 NOT HTTP \xff\xfe\r\n\r\n", 18));
    EXPECT_EQ(status_of(bad.read_response()), 400);
  }
  Client good(server->port());
  good.send("GET /api/v1/node HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(good.read_response()), 200);
}

TEST_F(ServerTest, SlowRequestIsCutOffAtTheTimeout) {
  BrokerConfig config;
  config.request_timeout = std::chrono::seconds(1);
  start(config);
  Client c(server->port());
  c.send("GET /api/v1/health HTTP/1.1\r\nHost:");  // never finishes the header
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, WebSocketUpgradeNeedsToken) {
  BrokerConfig config;
  config.bearer_token = "tok";
  start(config);
  Client c(server->port());
  c.send(
      "GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(status_of(c.read_response()), 401);
  Client ok(server->port());
  ok.send(
      "GET /api/v1/ws?access_token=tok HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  auto r = ok.read_response();
  EXPECT_EQ(status_of(r), 101);
  EXPECT_NE(r.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);  // RFC 6455 example
}

TEST(ServerBind, PortInUseIsAClearError) {
  runtime::IoLoop loop;
  testing::FakeBackend backend;
  BrokerConfig config;
  config.bind_address = "127.0.0.1";
  config.port = 0;
  BrokerServer first(loop, backend, config);
  ASSERT_TRUE(first.start().ok());
  config.port = first.port();
  BrokerServer second(loop, backend, config);
  auto st = second.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BIND_FAILED");
  EXPECT_NE(st.error().message.find("127.0.0.1:" + std::to_string(config.port)), std::string::npos);
}

}  // namespace
}  // namespace peat::broker
