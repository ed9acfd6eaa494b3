// End to end, in process: a PeatMesh with its broker and Peat-Lite bridge on loopback, and a
// device written here from the public Lite protocol (include/peat/lite/protocol.hpp) on its own
// UDP socket and thread. The device announces itself and sends telemetry (which must land in
// the node's store); firmware pushed through the real HTTP route POST /api/v1/ota/<peer> must
// reach it byte for byte, signed with the key whose public half the node logged.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mesh/node_test_support.hpp"
#include "peat/common/random.hpp"
#include "peat/common/sha256.hpp"
#include "peat/lite/protocol.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/security/keypair.hpp"

namespace peat::mesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::http_request;

const char* kSecret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::uint32_t kDeviceId = 0x00C0FFEE;

// The device: a UDP socket on 127.0.0.1 and the OTA receiver of peat-lite firmware (accept the
// offer after checking its signature, write each chunk in order, ACK it, check the SHA-256 at
// COMPLETE). Its thread runs until stop(); every receive waits at most 50 ms.
class Device {
 public:
  explicit Device(std::uint16_t node_port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    timeval tv{0, 50000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    node_.sin_family = AF_INET;
    node_.sin_port = htons(node_port);
    node_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~Device() {
    stop();
    ::close(fd_);
  }

  void set_ota_key(const std::string& hex) {
    auto key = security::PublicKey::from_hex(hex);
    ASSERT_TRUE(key.ok()) << hex;
    std::lock_guard lock(mu_);
    key_ = *key;
  }

  void send(lite::MessageType type, ByteView payload, std::uint16_t flags = 0) {
    auto packet = lite::encode_packet({type, flags, kDeviceId, ++seq_}, payload);
    ASSERT_TRUE(packet.ok());
    ::sendto(fd_, packet->data(), packet->size(), 0, reinterpret_cast<const sockaddr*>(&node_),
             sizeof node_);
  }

  void run() {
    thread_ = std::thread([this] {
      std::uint8_t buf[2048];
      while (!stopping_) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        auto packet = lite::decode_packet(ByteView(buf, static_cast<std::size_t>(n)));
        if (!packet) continue;
        std::lock_guard lock(mu_);
        handle(*packet, from);
      }
    });
  }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Results, read after stop().
  Bytes image;
  std::optional<lite::OtaOffer> offer;
  bool signature_valid = false;
  std::optional<std::uint8_t> result;
  std::uint32_t leaves = 0;

 private:
  void reply(const sockaddr_in& to, lite::MessageType type, ByteView payload) {
    auto packet = lite::encode_packet({type, 0, kDeviceId, 0}, payload);
    ::sendto(fd_, packet->data(), packet->size(), 0, reinterpret_cast<const sockaddr*>(&to),
             sizeof to);
  }

  void handle(const lite::Packet& p, const sockaddr_in& from) {
    using lite::MessageType;
    switch (p.header.type) {
      case MessageType::kOtaOffer: {
        auto o = lite::decode_ota_offer(p.payload);
        if (!o) return;
        if (offer && offer->session_id == o->session_id) {  // a resent offer
          reply(from, MessageType::kOtaAccept, lite::encode_ota_accept({o->session_id, 0}));
          return;
        }
        signature_valid =
            key_ && o->signature &&
            key_->verify(ByteView(o->sha256.data(), o->sha256.size()), *o->signature).ok();
        if (!signature_valid) {
          reply(from, MessageType::kOtaResult,
                lite::encode_ota_result(
                    {0, static_cast<std::uint8_t>(lite::OtaResultCode::kSignatureInvalid)}));
          return;
        }
        offer = *o;
        image.clear();
        reply(from, MessageType::kOtaAccept, lite::encode_ota_accept({o->session_id, 0}));
        return;
      }
      case MessageType::kOtaData: {
        auto d = lite::decode_ota_data(p.payload);
        if (!d || !offer || d->session_id != offer->session_id) return;
        const std::size_t written = image.size() / lite::kOtaChunkDataSize;
        if (d->chunk_num == written && image.size() % lite::kOtaChunkDataSize == 0) {
          image.insert(image.end(), d->data.begin(), d->data.end());
        } else if (d->chunk_num > written) {
          return;  // out of order: wait for the resend of the expected chunk
        }
        reply(from, MessageType::kOtaAck, lite::encode_ota_ack({d->session_id, d->chunk_num}));
        return;
      }
      case MessageType::kOtaComplete: {
        auto session = lite::decode_ota_complete(p.payload);
        if (!session || !offer || *session != offer->session_id) return;
        bool ok = image.size() == offer->firmware_size && Sha256::digest(image) == offer->sha256;
        result = ok ? 0 : 1;
        reply(from, MessageType::kOtaResult, lite::encode_ota_result({*session, *result}));
        return;
      }
      case MessageType::kLeave:
        ++leaves;
        return;
      default:
        return;
    }
  }

  int fd_ = -1;
  sockaddr_in node_{};
  std::uint32_t seq_ = 0;
  std::mutex mu_;
  std::optional<security::PublicKey> key_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::unique_ptr<PeatMesh> lite_node(const std::filesystem::path& dir) {
  MeshConfig c;
  c.node_id = "lite-node";
  c.formation_secret = kSecret;
  c.quic_bind_host = "127.0.0.1";
  c.quic_port = 0;
  c.data_dir = dir;
  c.broker_port = 0;
  c.broker_bind_host = "127.0.0.1";
  c.lite_port = 0;
  c.lite_bind_host = "127.0.0.1";
  c.drain_timeout = 0ms;
  auto built = PeatMeshBuilder().with_config(c).build();
  EXPECT_TRUE(built.ok());
  return built.ok() ? std::move(built.value()) : nullptr;
}

template <typename Pred>
bool poll(Pred pred, int tries = 100) {
  for (int i = 0; i < tries; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(NodeLiteTest, TelemetryIsStoredAndFirmwareReachesTheDeviceSigned) {
  testing::TempDir dir;
  testing::CapturedLog log;
  auto mesh = lite_node(dir.path);
  ASSERT_TRUE(mesh);
  ASSERT_TRUE(mesh->start().ok());
  auto st = mesh->status();
  ASSERT_NE(st.lite_port, 0);
  ASSERT_NE(st.broker_port, 0);
  auto key_hex = log.after("OTA signing public key ");
  ASSERT_TRUE(key_hex) << "the node did not log its OTA signing key";
  EXPECT_EQ(key_hex->size(), 64u);

  Device device(st.lite_port);
  device.set_ota_key(*key_hex);
  device.run();
  device.send(lite::MessageType::kAnnounce, lite::encode_announce(lite::caps::kLite));
  // Telemetry: an LWW register with a text value, as DATA.
  auto lww = lite::encode_lww({1700000000000, kDeviceId, Bytes{'2', '1', '.', '5'}});
  ASSERT_TRUE(lww.ok());
  auto [data, flags] = lite::encode_data({lite::CrdtType::kLwwRegister, *lww, std::nullopt});
  device.send(lite::MessageType::kData, data, flags);

  std::optional<std::string> stored;
  ASSERT_TRUE(poll([&] {
    auto d = mesh->get_document("lite_sensors", "lite-00C0FFEE");
    if (d.ok() && d->has_value()) stored = **d;
    return stored.has_value();
  })) << "telemetry did not reach the store";
  auto doc = json::parse(*stored);
  EXPECT_EQ(doc["value_text"], "21.5") << *stored;

  // An unknown device: 404, like the Rust route.
  auto [small_form, small_type] = testing::firmware_form("x", "1");
  EXPECT_EQ(http_request(st.broker_port, "POST", "/api/v1/ota/lite-00000001", small_form,
                         {{"Content-Type", small_type}})
                .status,
            404);

  SeededRng rng(11);
  std::string firmware(20000, '\0');  // 45 chunks, the last one partial
  rng.fill({reinterpret_cast<std::uint8_t*>(firmware.data()), firmware.size()});
  auto [form, type] = testing::firmware_form(firmware, "2.0.1");
  const auto pushed_at = std::chrono::steady_clock::now();
  auto posted = http_request(st.broker_port, "POST", "/api/v1/ota/lite-00C0FFEE", form,
                             {{"Content-Type", type}});
  ASSERT_EQ(posted.status, 202) << posted.body;
  auto started = json::parse(posted.body);
  EXPECT_EQ(started["firmware_size"], 20000);
  EXPECT_EQ(started["total_chunks"], 45);
  EXPECT_EQ(started["version"], "2.0.1");

  json last;
  ASSERT_TRUE(poll([&] {
    auto r = http_request(st.broker_port, "GET", "/api/v1/ota/lite-00C0FFEE/status");
    if (r.status != 200) return false;
    last = json::parse(r.body, nullptr, false);
    auto state = last.value("state", "");
    return state == "complete" || state.rfind("failed", 0) == 0;
  })) << last.dump();
  std::printf("OTA push of %zu bytes through the broker, polled every 50 ms: %lld ms\n",
              firmware.size(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - pushed_at)
                                         .count()));
  EXPECT_EQ(last["state"], "complete") << last.dump();
  EXPECT_EQ(last["progress_percent"], 100);
  EXPECT_EQ(last["chunks_sent"], 45);
  EXPECT_EQ(last["session_id"], started["session_id"]);

  ASSERT_TRUE(mesh->stop().ok());  // the bridge says goodbye (LEAVE) to its devices
  EXPECT_TRUE(poll([&] { return device.leaves > 0; }, 20));
  device.stop();
  EXPECT_TRUE(device.signature_valid);
  ASSERT_TRUE(device.offer);
  EXPECT_EQ(device.offer->version_text(), "2.0.1");
  EXPECT_EQ(device.result, std::optional<std::uint8_t>(0));
  EXPECT_EQ(device.image, Bytes(firmware.begin(), firmware.end()));
  EXPECT_EQ(Sha256::digest(device.image),
            Sha256::digest(
                ByteView(reinterpret_cast<const std::uint8_t*>(firmware.data()), firmware.size())));
  EXPECT_EQ(mesh->status().lite_port, 0);
}

TEST(NodeLiteTest, DisabledOrUnbindableBridgeLeavesOtaUnavailable) {
  testing::TempDir dir;
  // Without a Lite port the OTA routes answer 501.
  auto mesh = lite_node(dir.path / "a");
  ASSERT_TRUE(mesh);
  MeshConfig c = mesh->config();
  c.lite_port.reset();
  auto plain = PeatMeshBuilder().with_config(c).build();
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE((*plain)->start().ok());
  auto [form, type] = testing::firmware_form("x", "1");
  EXPECT_EQ(http_request((*plain)->status().broker_port, "POST", "/api/v1/ota/lite-00C0FFEE", form,
                         {{"Content-Type", type}})
                .status,
            501);
  EXPECT_EQ((*plain)->status().lite_port, 0);

  // A port already taken: the node starts anyway, with a warning (as Rust).
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  testing::CapturedLog log;
  c.lite_port = ntohs(a.sin_port);
  c.data_dir = dir.path / "b";
  c.node_id = "lite-node-b";
  auto taken = PeatMeshBuilder().with_config(c).build();
  ASSERT_TRUE(taken.ok());
  ASSERT_TRUE((*taken)->start().ok());
  EXPECT_EQ((*taken)->status().lite_port, 0);
  EXPECT_TRUE(log.after("Peat-Lite bridge failed to start"));
  ::close(fd);
  EXPECT_TRUE((*taken)->stop().ok());
  EXPECT_TRUE((*plain)->stop().ok());
}

}  // namespace
}  // namespace peat::mesh
