#include "peat/transport/ble/fragment.hpp"

#include <algorithm>
#include <string>

namespace peat::transport::ble {

std::uint8_t op_for(Channel channel) {
  switch (channel) {
    case Channel::kSync:
      return 0x01;
    case Channel::kEnrollment:
      return 0x21;
    case Channel::kBlobs:
      return 0x22;
    case Channel::kControl:
      return 0x23;
  }
  return 0x01;
}

Result<Channel> channel_for_op(std::uint8_t op) {
  switch (op) {
    case 0x01:
      return Channel::kSync;
    case 0x21:
      return Channel::kEnrollment;
    case 0x22:
      return Channel::kBlobs;
    case 0x23:
      return Channel::kControl;
    default:
      return make_error("BLE_UNKNOWN_OP", "unknown BLE fragment op " + std::to_string(op));
  }
}

std::size_t fragment_payload_size(std::uint16_t att_mtu) {
  if (att_mtu < kMinAttMtu) return 0;
  return static_cast<std::size_t>(att_mtu) - kAttHeaderSize - kFragmentHeaderSize;
}

Result<std::vector<Bytes>> fragment(Channel channel, std::uint16_t seq, ByteView message,
                                    std::uint16_t att_mtu) {
  const std::size_t chunk = fragment_payload_size(att_mtu);
  if (chunk == 0) {
    return make_error("BLE_MTU_TOO_SMALL",
                      "ATT MTU " + std::to_string(att_mtu) + " is below the minimum 23");
  }
  const std::size_t count = message.empty() ? 1 : (message.size() + chunk - 1) / chunk;
  if (count > kMaxFragments) {
    return make_error("MESSAGE_TOO_LARGE", "message of " + std::to_string(message.size()) +
                                               " bytes needs more than 255 fragments");
  }
  std::vector<Bytes> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t begin = i * chunk;
    const std::size_t end = std::min(message.size(), begin + chunk);
    Bytes f;
    f.reserve(kFragmentHeaderSize + (end - begin));
    f.push_back(op_for(channel));
    f.push_back(static_cast<std::uint8_t>(seq >> 8));
    f.push_back(static_cast<std::uint8_t>(seq));
    f.push_back(static_cast<std::uint8_t>(count));
    f.push_back(static_cast<std::uint8_t>(i));
    f.insert(f.end(), message.begin() + static_cast<std::ptrdiff_t>(begin),
             message.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(f));
  }
  return out;
}

Result<FragmentHeader> decode_header(ByteView fragment) {
  if (fragment.size() < kFragmentHeaderSize) {
    return make_error("BLE_FRAGMENT_TRUNCATED",
                      "BLE fragment of " + std::to_string(fragment.size()) + " bytes (< 5)");
  }
  FragmentHeader h;
  h.op = fragment[0];
  h.seq = static_cast<std::uint16_t>((fragment[1] << 8) | fragment[2]);
  h.total = fragment[3];
  h.index = fragment[4];
  return h;
}

Result<std::optional<ReassembledMessage>> Reassembler::push(ByteView fragment, Instant now) {
  auto header = decode_header(fragment);
  if (!header) return header.error();
  const FragmentHeader h = header.value();
  auto channel = channel_for_op(h.op);
  if (!channel) return channel.error();
  if (h.total == 0 || h.index >= h.total) {
    return make_error("BLE_BAD_FRAGMENT",
                      "fragment " + std::to_string(h.index) + " of " + std::to_string(h.total));
  }
  const ByteView payload = fragment.subspan(kFragmentHeaderSize);

  auto it = partial_.find(h.seq);
  if (it == partial_.end()) {
    if (h.total == 1) {
      if (payload.size() > limits_.max_message_size) {
        return make_error("BLE_MESSAGE_TOO_LARGE", "BLE message exceeds the reassembly limit");
      }
      return std::optional<ReassembledMessage>(
          ReassembledMessage{channel.value(), h.seq, Bytes(payload.begin(), payload.end())});
    }
    if (partial_.size() >= limits_.max_pending) {
      return make_error("BLE_TOO_MANY_PENDING",
                        "already reassembling " + std::to_string(partial_.size()) + " messages");
    }
    Partial p;
    p.op = h.op;
    p.total = h.total;
    p.started = now;
    p.parts.resize(h.total);
    it = partial_.emplace(h.seq, std::move(p)).first;
  }
  Partial& p = it->second;
  if (p.op != h.op || p.total != h.total) {
    partial_.erase(it);
    return make_error("BLE_FRAGMENT_MISMATCH",
                      "fragment of seq " + std::to_string(h.seq) + " disagrees on op/total");
  }
  if (p.parts[h.index]) {
    return make_error("BLE_DUPLICATE_FRAGMENT", "fragment " + std::to_string(h.index) + " of seq " +
                                                    std::to_string(h.seq) + " received twice");
  }
  if (p.bytes + payload.size() > limits_.max_message_size) {
    partial_.erase(it);
    return make_error("BLE_MESSAGE_TOO_LARGE", "BLE message exceeds the reassembly limit");
  }
  p.parts[h.index] = Bytes(payload.begin(), payload.end());
  p.bytes += payload.size();
  if (++p.received < p.total) return std::optional<ReassembledMessage>();

  ReassembledMessage m{channel.value(), h.seq, {}};
  m.data.reserve(p.bytes);
  for (const auto& part : p.parts) m.data.insert(m.data.end(), part->begin(), part->end());
  partial_.erase(it);
  return std::optional<ReassembledMessage>(std::move(m));
}

std::size_t Reassembler::expire(Instant now) {
  return std::erase_if(
      partial_, [&](const auto& entry) { return now - entry.second.started >= limits_.timeout; });
}

}  // namespace peat::transport::ble
