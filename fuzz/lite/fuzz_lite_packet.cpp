// Feeds arbitrary datagrams to the Peat-Lite codec (every payload decoder and the JSON mapping),
// to a LiteBridge with a running OTA session, and checks that whatever decodes re-encodes to
// something that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "peat/lite/bridge.hpp"
#include "peat/lite/json_mapping.hpp"
#include "peat/lite/ota.hpp"

using namespace peat;
using namespace peat::lite;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

class FixedLoop final : public EventLoop {
 public:
  Instant now() const override { return {}; }
  UnixMillis unix_millis() const override { return 1700000000000; }
  void post(std::function<void()>) override {}
  TimerId call_after(Duration, std::function<void()>) override { return ++next_; }
  void cancel(TimerId) override {}

 private:
  TimerId next_ = 0;
};

class NullPort final : public DatagramPort {
 public:
  Status open(Receiver) override { return {}; }
  void close() override {}
  Status send_to(const PeerAddress&, ByteView datagram) override {
    check(decode_packet(datagram).ok());  // everything the bridge sends is a valid packet
    return {};
  }
  PeerAddress local_address() const override { return {"127.0.0.1", 5555}; }
};

void decode_payload(const Packet& p) {
  const ByteView payload = p.payload;
  switch (p.header.type) {
    case MessageType::kAnnounce:
      (void)decode_announce(payload);
      break;
    case MessageType::kAck:
      (void)decode_ack(payload);
      break;
    case MessageType::kQuery:
      if (auto q = decode_query(payload)) check(*decode_query(encode_query(*q).value()) == *q);
      break;
    case MessageType::kData:
      if (auto d = decode_data(p.header.flags, payload)) {
        (void)data_to_json(*d, p.header.node_id, 0);
        if (auto g = decode_gcounter(d->crdt)) {
          check(*decode_gcounter(encode_gcounter(*g).value()) == *g);
        }
        if (auto n = decode_pncounter(d->crdt)) {
          check(*decode_pncounter(encode_pncounter(*n).value()) == *n);
        }
        if (auto s = decode_orset(d->crdt)) check(*decode_orset(encode_orset(*s).value()) == *s);
        if (auto r = decode_lww(d->crdt))
          check(decode_lww(encode_lww(*r).value())->value == r->value);
      }
      break;
    case MessageType::kDocument:
      if (auto d = decode_document(payload)) {
        (void)document_to_json(*d, p.header.node_id);
        auto clean = *d;
        clean.flags &= kDocFlagTombstone;
        if (clean.tombstone()) clean.body.clear();
        check(*decode_document(encode_document(clean).value()) == clean);
      }
      break;
    case MessageType::kOtaOffer:
      if (auto o = decode_ota_offer(payload)) {
        auto again = decode_ota_offer(encode_ota_offer(*o));
        check(again.ok() && again->sha256 == o->sha256 && again->signature == o->signature);
      }
      break;
    case MessageType::kOtaData:
      if (auto d = decode_ota_data(payload)) {
        check(decode_ota_data(encode_ota_data(*d).value())->data == d->data);
      }
      break;
    case MessageType::kOtaAccept:
      (void)decode_ota_accept(payload);
      break;
    case MessageType::kOtaAck:
      (void)decode_ota_ack(payload);
      break;
    case MessageType::kOtaComplete:
      (void)decode_ota_complete(payload);
      break;
    case MessageType::kOtaResult:
      (void)decode_ota_result(payload);
      break;
    case MessageType::kOtaAbort:
      (void)decode_ota_abort(payload);
      break;
    case MessageType::kHeartbeat:
    case MessageType::kLeave:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);
  auto packet = decode_packet(input);
  if (packet) {
    decode_payload(*packet);
    auto again = encode_packet(packet->header, packet->payload);
    check(again.ok() && Bytes(input.begin(), input.end()) == *again);
  }

  // The bridge, with an OTA session running for the sender's peer id (when there is one).
  FixedLoop loop;
  NullPort port;
  LiteConfig config;
  config.node_id = 1;
  config.inbound_collections.clear();
  LiteEvents events;
  events.on_query = [](const PeerId&, const QueryRequest& q) {
    return std::vector<std::pair<std::string, std::string>>{
        {"d", R"({"q":")" + q.collection + "\"}"}};
  };
  LiteBridge bridge(loop, port, config, events);
  check(bridge.start().ok());
  OtaService ota(loop, bridge);
  if (packet) {
    auto announce = encode_packet({MessageType::kAnnounce, 0, packet->header.node_id, 0},
                                  encode_announce(caps::kLite));
    bridge.handle_datagram({"10.0.0.2", 5555}, *announce);
    auto peer = peer_id_for(packet->header.node_id);
    if (bridge.peer(peer)) check(ota.start(peer, std::string(1000, 'f'), "1").ok());
  }
  bridge.handle_datagram({"10.0.0.2", 5555}, input);
  return 0;
}
