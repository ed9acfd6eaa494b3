// End to end: a firmware upload to the broker's OTA route over a real HTTP socket reaches the
// simulated device over UDP (through the fault proxy), and the status route reports completion.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "lite/udp_support.hpp"
#include "peat/broker/server.hpp"
#include "peat/lite/bridge.hpp"
#include "peat/lite/ota.hpp"
#include "support/http_client.hpp"

namespace peat::lite {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The smallest backend a node could have: OTA goes to the OtaService, nothing else is served.
class OtaOnlyBackend : public broker::BrokerBackend {
 public:
  explicit OtaOnlyBackend(OtaService& ota) : ota_(ota) {}
  broker::NodeInfo node_info() override { return {"lite-test", 0, "0.1.0"}; }
  std::vector<broker::PeerSummary> peers() override { return {}; }
  std::optional<broker::PeerSummary> peer(const std::string&) override { return std::nullopt; }
  broker::TopologySummary topology() override { return {}; }
  std::optional<std::vector<std::string>> list_documents(const std::string&) override {
    return std::nullopt;
  }
  std::optional<std::string> get_document(const std::string&, const std::string&) override {
    return std::nullopt;
  }
  Status put_document(const std::string&, const std::string&, const std::string&) override {
    return make_error("UNSUPPORTED", "no store");
  }
  Result<bool> delete_document(const std::string&, const std::string&) override { return false; }
  Result<std::vector<std::string>> query_documents(const std::string&,
                                                   const std::string&) override {
    return std::vector<std::string>{};
  }
  Result<OtaStarted> start_ota(const std::string& peer_id, std::string firmware,
                               std::string version) override {
    return ota_.start(peer_id, std::move(firmware), std::move(version));
  }
  std::optional<OtaStatus> ota_status(const std::string& peer_id) override {
    return ota_.status(peer_id);
  }

 private:
  OtaService& ota_;
};

// The whole reply to one raw request (tests/support/http_client.hpp).
std::string http(std::uint16_t port, const std::string& request) {
  return peat::test::http_exchange(port, request);
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

json body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  if (at == std::string::npos) return json();
  return json::parse(response.substr(at + 4), nullptr, false);
}

std::string multipart_upload(const std::string& path, const std::string& firmware,
                             const std::string& version) {
  const std::string boundary = "peat-lite-boundary-7d1f";
  std::string body = "--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"fw.bin\""
                     "\r\nContent-Type: application/octet-stream\r\n\r\n" +
                     firmware + "\r\n--" + boundary +
                     "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n" + version +
                     "\r\n--" + boundary + "--\r\n";
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         "Content-Type: multipart/form-data; boundary=" + boundary +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

TEST(OtaHttp, FirmwareUploadReachesTheDevice) {
  runtime::IoLoop loop;
  SeededRng key_rng(77);
  auto key = security::DeviceKeypair::generate(key_rng);

  auto port = make_udp_port(
      loop, {.bind_address = "127.0.0.1", .port = 0, .broadcast = false, .reuse_address = false});
  LiteConfig config;
  config.node_id = node_id_from_hostname("peat-mesh-node-0");
  config.broadcast_target.reset();
  LiteBridge bridge(loop, *port, config);
  ASSERT_TRUE(bridge.start().ok());
  OtaService ota(loop, bridge, OtaConfig{.retransmit_after = 40ms, .max_retries = 10}, key);
  testing::UdpSimDevice device(loop, {.node_id = 0x00C0FFEE, .ota_pubkey = key.public_key_bytes()});
  testing::UdpFaultProxy proxy(loop, device.address(), port->local_address(), 99);
  device.send(proxy.address(), device.device().announce());
  ASSERT_TRUE(loop.run_until([&] { return bridge.peer("lite-00C0FFEE").has_value(); }, 5s));
  proxy.set_faults(0.05, 0.05);

  OtaOnlyBackend backend(ota);
  broker::BrokerConfig bc;
  bc.bind_address = "127.0.0.1";
  bc.port = 0;
  broker::BrokerServer server(loop, backend, bc);
  ASSERT_TRUE(server.start().ok());
  std::thread runner([&] { loop.run(); });

  SeededRng fw_rng(5);
  std::string firmware(50000, '\0');  // 112 chunks
  fw_rng.fill({reinterpret_cast<std::uint8_t*>(firmware.data()), firmware.size()});

  auto unknown = http(server.port(), multipart_upload("/api/v1/ota/lite-00000001", "x", "1"));
  EXPECT_EQ(status_of(unknown), 404);
  auto posted =
      http(server.port(), multipart_upload("/api/v1/ota/lite-00C0FFEE", firmware, "9.9.9"));
  ASSERT_EQ(status_of(posted), 202) << posted;
  auto started = body_of(posted);
  EXPECT_EQ(started["peer_id"], "lite-00C0FFEE");
  EXPECT_EQ(started["firmware_size"], 50000);
  EXPECT_EQ(started["total_chunks"], 112);
  EXPECT_EQ(started["version"], "9.9.9");

  std::string state;
  json last;
  for (int i = 0; i < 300 && state != "complete" && state.rfind("failed", 0) != 0; ++i) {
    std::this_thread::sleep_for(50ms);
    auto r = http(server.port(), get("/api/v1/ota/lite-00C0FFEE/status"));
    ASSERT_EQ(status_of(r), 200) << r;
    last = body_of(r);
    state = last["state"].get<std::string>();
  }
  EXPECT_EQ(state, "complete");
  EXPECT_EQ(last["progress_percent"], 100);
  EXPECT_EQ(last["chunks_sent"], 112);
  EXPECT_EQ(last["session_id"], started["session_id"]);
  EXPECT_EQ(status_of(http(server.port(), get("/api/v1/ota/lite-00000001/status"))), 404);

  std::promise<void> stopped;
  loop.post([&] {
    server.stop();
    bridge.stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  loop.stop();
  runner.join();
  EXPECT_EQ(device.device().slot(), Bytes(firmware.begin(), firmware.end()));
  EXPECT_EQ(device.device().installed_version(), "9.9.9");
}

}  // namespace
}  // namespace peat::lite
