// The sans-I/O OTA sender against the simulated device, with simulated time and a seeded lossy,
// duplicating channel between them.
#include <gtest/gtest.h>

#include <deque>

#include "lite/sim_device.hpp"
#include "peat/common/random.hpp"
#include "peat/lite/ota.hpp"

namespace peat::lite {
namespace {

using namespace std::chrono_literals;
using testing::SimDevice;
using testing::SimDeviceConfig;

constexpr std::uint32_t kNodeId = 0x0BADF00D;

Bytes firmware_of(std::size_t size, std::uint64_t seed) {
  SeededRng rng(seed);
  Bytes b(size);
  rng.fill(b);
  return b;
}

security::DeviceKeypair key_from(std::uint64_t seed) {
  SeededRng rng(seed);
  return security::DeviceKeypair::generate(rng);
}

// Sender <-> device over a simulated link. Every packet takes `latency`; each direction drops and
// duplicates packets with the given probabilities (seeded, so a run replays exactly).
class Harness {
 public:
  Harness(OtaSender& sender, SimDevice& device, std::uint64_t seed)
      : sender_(sender), device_(device), rng_(seed) {}

  double drop = 0;
  double duplicate = 0;
  bool device_silent = false;   // the device hears nothing (powered off / out of range)
  Duration device_delay = 1ms;  // one-way latency
  std::uint32_t packets_to_device = 0;
  std::uint32_t offers_sent = 0;
  std::uint32_t aborts_sent = 0;
  std::vector<std::uint16_t> chunks_sent;

  void send(std::vector<OtaOutgoing>& out, bool to_device) {
    for (auto& o : out) {
      if (to_device) count(o.packet);
      if (rng_.unit() < drop) continue;
      int copies = rng_.unit() < duplicate ? 2 : 1;
      for (int i = 0; i < copies; ++i)
        inflight_.push_back({now + device_delay, to_device, o.packet});
    }
    out.clear();
  }

  // Runs until the session leaves the running states or `steps` events were processed.
  std::string run(const PeerId& peer, int steps = 200000) {
    std::vector<OtaOutgoing> out;
    for (int i = 0; i < steps && sender_.active(peer); ++i) {
      auto deadline = sender_.next_deadline();
      if (!inflight_.empty() && (!deadline || inflight_.front().at <= *deadline)) {
        auto item = std::move(inflight_.front());
        inflight_.pop_front();
        now = std::max(now, item.at);
        if (item.to_device) {
          if (device_silent) continue;
          for (auto& reply : device_.handle(item.bytes)) out.push_back({peer, std::move(reply)});
          send(out, false);
        } else {
          auto p = decode_packet(item.bytes);
          EXPECT_TRUE(p.ok());
          sender_.on_message(peer, p->header.type, p->payload, now, out);
          send(out, true);
        }
      } else if (deadline) {
        now = std::max(now, *deadline);
        sender_.tick(now, out);
        send(out, true);
      }
    }
    // Let the last packets (an ABORT) arrive.
    while (!inflight_.empty()) {
      auto item = std::move(inflight_.front());
      inflight_.pop_front();
      if (item.to_device && !device_silent) device_.handle(item.bytes);
    }
    return sender_.status(peer, now)->state;
  }

  Instant now{};

 private:
  void count(const Bytes& packet) {
    packets_to_device++;
    auto p = decode_packet(packet).value();
    if (p.header.type == MessageType::kOtaOffer) offers_sent++;
    if (p.header.type == MessageType::kOtaAbort) aborts_sent++;
    if (p.header.type == MessageType::kOtaData) {
      chunks_sent.push_back(decode_ota_data(p.payload)->chunk_num);
    }
  }
  struct Item {
    Instant at;
    bool to_device;
    Bytes bytes;
  };
  OtaSender& sender_;
  SimDevice& device_;
  SeededRng rng_;
  std::deque<Item> inflight_;
};

const PeerId kPeer = "lite-4D355443";

TEST(FirmwareImage, ChunksAndDigest) {
  auto img = FirmwareImage::create(Bytes(1000, 7), "1.2.3", nullptr);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->total_chunks, 3);
  EXPECT_EQ(img->chunk(0).size(), 448u);
  EXPECT_EQ(img->chunk(1).size(), 448u);
  EXPECT_EQ(img->chunk(2).size(), 104u);
  EXPECT_TRUE(img->chunk(3).empty());
  EXPECT_EQ(img->sha256, Sha256::digest(Bytes(1000, 7)));
  EXPECT_EQ(FirmwareImage::create(Bytes(896, 1), "v", nullptr)->total_chunks, 2);
  EXPECT_EQ(FirmwareImage::create(Bytes(100, 1), "v", nullptr)->total_chunks, 1);
  EXPECT_EQ(FirmwareImage::create({}, "v", nullptr).error().code, "BAD_REQUEST");
  EXPECT_EQ(FirmwareImage::create(Bytes(kOtaMaxFirmwareSize + 1), "v", nullptr).error().code,
            "BAD_REQUEST");
  EXPECT_TRUE(FirmwareImage::create(Bytes(kOtaMaxFirmwareSize), "v", nullptr).ok());
}

TEST(FirmwareImage, SignatureCoversTheDigest) {
  auto key = key_from(1);
  auto img = FirmwareImage::create(Bytes(10, 1), "v", &key);
  ASSERT_TRUE(img->signature.has_value());
  EXPECT_TRUE(key.verify(img->sha256, *img->signature).ok());
}

TEST(OtaSigningKey, DerivedFromSeedWithOtaContext) {
  Bytes seed(32, 9);
  auto a = ota_signing_key(seed);
  EXPECT_EQ(a.public_key(),
            security::DeviceKeypair::from_seed(seed, "peat-ota-signing-v1").public_key());
  EXPECT_NE(a.public_key(), security::DeviceKeypair::from_seed(seed, "other").public_key());
}

TEST(OtaSender, SignedPushSurvivesLossAndDuplicates) {
  auto key = key_from(2);
  OtaSender sender(kNodeId, {}, key);
  SimDevice device({.ota_pubkey = key.public_key_bytes()});
  Harness h(sender, device, 42);
  h.drop = 0.2;
  h.duplicate = 0.2;
  auto image = firmware_of(20000, 3);  // 45 chunks
  std::vector<OtaOutgoing> out;
  auto started = sender.start(kPeer, image, "2.0.0", h.now, out);
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->session_id, 1);
  EXPECT_EQ(started->total_chunks, 45);
  EXPECT_EQ(started->firmware_size, 20000u);
  EXPECT_EQ(sender.status(kPeer, h.now)->state, "offered");
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "complete");
  EXPECT_EQ(device.slot(), image);
  EXPECT_EQ(device.installed_version(), "2.0.0");
  auto st = sender.status(kPeer, h.now);
  EXPECT_EQ(st->progress_percent, 100);
  EXPECT_EQ(st->chunks_sent, 45);
  EXPECT_GT(h.packets_to_device, 47u);  // something had to be resent
}

TEST(OtaSender, UnsignedPushToDeviceWithoutKey) {
  OtaSender sender(kNodeId);
  SimDevice device;
  Harness h(sender, device, 7);
  auto image = firmware_of(1000, 4);
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, image, "a-very-long-version-string", h.now, out).ok());
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "complete");
  EXPECT_EQ(device.slot(), image);
  EXPECT_EQ(device.installed_version(), "a-very-long-ver");  // 15 bytes on the wire
  EXPECT_EQ(h.chunks_sent, (std::vector<std::uint16_t>{0, 1, 2}));
}

TEST(OtaSender, BadSignatureFailsWithDeviceReason) {
  OtaSender sender(kNodeId, {}, key_from(5));
  SimDevice device({.ota_pubkey = key_from(6).public_key_bytes()});
  Harness h(sender, device, 8);
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, firmware_of(3000, 1), "1", h.now, out).ok());
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "failed: signature invalid");
  EXPECT_EQ(h.offers_sent, 1u);  // the session-0 rejection is understood, not timed out
  EXPECT_TRUE(device.slot().empty());
}

TEST(OtaSender, UnsignedOfferToDeviceRequiringSignature) {
  OtaSender sender(kNodeId);
  SimDevice device({.ota_pubkey = key_from(6).public_key_bytes()});
  Harness h(sender, device, 8);
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, firmware_of(3000, 1), "1", h.now, out).ok());
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "failed: signature required");
}

TEST(OtaSender, SilentDeviceTimesOutAfterSixOffers) {
  OtaSender sender(kNodeId);
  SimDevice device;
  Harness h(sender, device, 9);
  h.device_silent = true;
  std::vector<OtaOutgoing> out;
  auto t0 = h.now;
  ASSERT_TRUE(sender.start(kPeer, firmware_of(3000, 1), "1", h.now, out).ok());
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "failed: offer not accepted");
  EXPECT_EQ(h.offers_sent, 6u);  // first send + 5 retries
  EXPECT_EQ(h.aborts_sent, 1u);
  EXPECT_EQ(h.now - t0, 3000ms);  // 6 x 500 ms of simulated time
  EXPECT_FALSE(sender.next_deadline().has_value());
}

TEST(OtaSender, DeviceVanishingMidTransferHitsChunkRetryLimit) {
  OtaSender sender(kNodeId);
  SimDevice device;
  Harness h(sender, device, 10);
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, firmware_of(5000, 1), "1", h.now, out).ok());
  h.send(out, true);
  // Let 4 chunks through, then the device goes away.
  h.run(kPeer, 9);
  h.device_silent = true;
  auto state = h.run(kPeer);
  EXPECT_EQ(state.rfind("failed: chunk ", 0), 0u) << state;
  EXPECT_NE(state.find("retry limit"), std::string::npos);
}

TEST(OtaSender, SlowDeviceHitsSessionTimeout) {
  OtaSender sender(kNodeId);
  SimDevice device;
  Harness h(sender, device, 11);
  h.device_delay = 200ms;  // 400 ms per chunk round trip: 751 chunks need > 300 s
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, firmware_of(751 * 448, 2), "1", h.now, out).ok());
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "failed: session timeout");
  EXPECT_EQ(sender.status(kPeer, h.now)->elapsed_secs, 300u);
  EXPECT_GT(sender.status(kPeer, h.now)->progress_percent, 90);
  EXPECT_EQ(h.aborts_sent, 1u);
}

TEST(OtaSender, ResumesAfterInterruption) {
  auto key = key_from(12);
  OtaSender sender(kNodeId, {}, key);
  SimDevice device({.ota_pubkey = key.public_key_bytes()});
  Harness h(sender, device, 13);
  auto image = firmware_of(10 * 448, 3);
  std::vector<OtaOutgoing> out;
  ASSERT_TRUE(sender.start(kPeer, image, "3", h.now, out).ok());
  h.send(out, true);
  h.run(kPeer, 13);  // offer/accept + 5 chunks
  h.device_silent = true;
  ASSERT_EQ(h.run(kPeer).rfind("failed: chunk", 0), 0u);
  auto written = device.chunks_written();
  ASSERT_GT(written, 0u);
  ASSERT_LT(written, 10u);

  h.device_silent = false;
  h.chunks_sent.clear();
  auto again = sender.start(kPeer, image, "3", h.now, out);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->session_id, 2);
  h.send(out, true);
  EXPECT_EQ(h.run(kPeer), "complete");
  EXPECT_EQ(device.last_resume_chunk(), written);
  EXPECT_EQ(h.chunks_sent.front(), written);  // nothing before the resume point was resent
  EXPECT_EQ(device.chunks_written(), 10u);
  EXPECT_EQ(device.slot(), image);
}

TEST(OtaSender, StaleAcksAndAcceptsDoNotRewind) {
  OtaSender sender(kNodeId);
  std::vector<OtaOutgoing> out;
  Instant now{};
  ASSERT_TRUE(sender.start(kPeer, firmware_of(448 * 4, 1), "1", now, out).ok());
  out.clear();
  sender.on_message(kPeer, MessageType::kOtaAccept, encode_ota_accept({1, 0}), now, out);
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({1, 0}), now, out);
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({1, 1}), now, out);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  // Duplicates of the accept and of old ACKs, and a foreign session, change nothing.
  sender.on_message(kPeer, MessageType::kOtaAccept, encode_ota_accept({1, 0}), now, out);
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({1, 0}), now, out);
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({9, 2}), now, out);
  sender.on_message(kPeer, MessageType::kOtaAck, Bytes{1}, now, out);  // truncated
  EXPECT_TRUE(out.empty());
  auto st = sender.status(kPeer, now);
  EXPECT_EQ(st->state, "transferring");
  EXPECT_EQ(st->chunks_sent, 2);
  EXPECT_EQ(st->progress_percent, 50);
  // A success result before COMPLETE is ignored.
  sender.on_message(kPeer, MessageType::kOtaResult, encode_ota_result({1, 0}), now, out);
  EXPECT_EQ(sender.status(kPeer, now)->state, "transferring");
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({1, 2}), now, out);
  sender.on_message(kPeer, MessageType::kOtaAck, encode_ota_ack({1, 3}), now, out);
  EXPECT_EQ(sender.status(kPeer, now)->state, "waiting_result");
  EXPECT_EQ(decode_packet(out.back().packet)->header.type, MessageType::kOtaComplete);
  sender.on_message(kPeer, MessageType::kOtaAbort, encode_ota_abort({1, 2}), now, out);
  EXPECT_EQ(sender.status(kPeer, now)->state, "failed: peer aborted: reason=2");
}

TEST(OtaSender, UserAbortSendsAbort) {
  OtaSender sender(kNodeId);
  std::vector<OtaOutgoing> out;
  Instant now{};
  EXPECT_EQ(sender.abort(kPeer, now, out).error().code, "NOT_FOUND");
  EXPECT_FALSE(sender.status(kPeer, now).has_value());
  ASSERT_TRUE(sender.start(kPeer, firmware_of(100, 1), "1", now, out).ok());
  out.clear();
  ASSERT_TRUE(sender.abort(kPeer, now, out).ok());
  ASSERT_EQ(out.size(), 1u);
  auto p = decode_packet(out[0].packet);
  EXPECT_EQ(p->header.type, MessageType::kOtaAbort);
  EXPECT_EQ(p->header.seq_num, 0u);
  EXPECT_EQ(decode_ota_abort(p->payload)->reason, kOtaAbortUserCancel);
  EXPECT_EQ(sender.status(kPeer, now)->state, "failed: cancelled");
}

TEST(OtaSender, SessionIdsWrapSkippingZero) {
  OtaSender sender(kNodeId);
  std::vector<OtaOutgoing> out;
  Instant now{};
  std::uint16_t last = 0;
  for (int i = 0; i < 65536; ++i) {
    last = sender.start(kPeer, Bytes{1}, "1", now, out)->session_id;
    out.clear();
  }
  EXPECT_EQ(last, 1);  // 65535 ids, then back to 1
}

}  // namespace
}  // namespace peat::lite
