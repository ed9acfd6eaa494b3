// Fragmentation of transport messages into GATT writes/notifications and their reassembly.
// Sans-I/O: bytes in, bytes out; time is passed in. Layout (peat-btle SyncDataHeader, 5 bytes):
//   op u8 | seq u16 BE | total_fragments u8 | fragment_index u8 | payload
// See docs/ble.md for the op values and limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::ble {

inline constexpr std::size_t kFragmentHeaderSize = 5;
inline constexpr std::size_t kAttHeaderSize = 3;
inline constexpr std::uint16_t kMinAttMtu = 23;
inline constexpr std::size_t kMaxFragments = 255;

struct FragmentHeader {
  std::uint8_t op = 0;
  std::uint16_t seq = 0;
  std::uint8_t total = 0;
  std::uint8_t index = 0;
};

// Channel <-> op byte. kSync uses peat-btle's Document op (0x01); the other channels use
// peat-mesh ops 0x21..0x23. Error: "BLE_UNKNOWN_OP".
std::uint8_t op_for(Channel channel);
Result<Channel> channel_for_op(std::uint8_t op);

// Payload bytes per fragment for an ATT MTU: mtu - 3 - 5 (0 if the MTU is below 23).
std::size_t fragment_payload_size(std::uint16_t att_mtu);

// Splits `message` into fragments of at most att_mtu - 3 bytes each (header included). An empty
// message is one header-only fragment. Errors: "BLE_MTU_TOO_SMALL", "MESSAGE_TOO_LARGE".
Result<std::vector<Bytes>> fragment(Channel channel, std::uint16_t seq, ByteView message,
                                    std::uint16_t att_mtu);

// Error: "BLE_FRAGMENT_TRUNCATED" (fewer than 5 bytes).
Result<FragmentHeader> decode_header(ByteView fragment);

struct ReassemblyLimits {
  std::size_t max_message_size = 64 * 1024;     // bytes of one reassembled message
  std::size_t max_pending = 4;                  // messages being reassembled at once
  Duration timeout = std::chrono::seconds(10);  // since a message's first fragment
};

struct ReassembledMessage {
  Channel channel = Channel::kSync;
  std::uint16_t seq = 0;
  Bytes data;
};

// One per peer and direction. Holds at most limits.max_pending partial messages, each at most
// limits.max_message_size bytes, so memory is bounded whatever a peer sends.
class Reassembler {
 public:
  explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

  // Feeds one GATT value. Returns the message once its last fragment arrives, nullopt while it
  // is incomplete. Errors (the offending partial message is dropped, others are kept):
  // "BLE_FRAGMENT_TRUNCATED", "BLE_UNKNOWN_OP", "BLE_BAD_FRAGMENT" (total 0 or index >= total),
  // "BLE_FRAGMENT_MISMATCH" (same seq, different op/total), "BLE_DUPLICATE_FRAGMENT",
  // "BLE_MESSAGE_TOO_LARGE", "BLE_TOO_MANY_PENDING".
  Result<std::optional<ReassembledMessage>> push(ByteView fragment, Instant now);

  // Drops partial messages older than limits.timeout; returns how many.
  std::size_t expire(Instant now);
  std::size_t pending() const { return partial_.size(); }

 private:
  struct Partial {
    std::uint8_t op = 0;
    std::uint8_t total = 0;
    std::size_t received = 0;
    std::size_t bytes = 0;
    Instant started{};
    std::vector<std::optional<Bytes>> parts;
  };
  ReassemblyLimits limits_;
  std::map<std::uint16_t, Partial> partial_;
};

}  // namespace peat::transport::ble
