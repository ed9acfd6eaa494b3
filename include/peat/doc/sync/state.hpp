// Per-peer, per-document sync state and its persisted form (only the shared heads survive).
#pragma once

#include <optional>
#include <set>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/sync/message.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync {

// What the peer told us about itself through the message trailer.
struct PeerCapabilities {
  bool v2 = false;          // any trailer at all implies V2 support
  bool sync_reset = false;  // flags bit SUPPORTS_SYNC_RESET
  bool operator==(const PeerCapabilities&) const = default;
};

struct State {
  std::vector<ChangeHash> shared_heads;     // heads both sides are known to have
  std::vector<ChangeHash> last_sent_heads;  // our heads as of our last message
  std::optional<std::vector<ChangeHash>> their_heads;
  std::optional<std::vector<ChangeHash>> their_need;
  std::optional<std::vector<Have>> their_have;
  std::set<ChangeHash> sent_hashes;  // sent and not yet acknowledged
  bool in_flight = false;            // a message was sent and not yet answered
  bool have_responded = false;       // we have sent at least once
  std::optional<PeerCapabilities> their_capabilities;
  bool read_only = false;       // we ignore incoming changes and ask for nothing
  bool peer_read_only = false;  // the peer ignores our changes: we send none
  bool needs_reset = false;     // ask the peer to forget what it believes it sent us

  bool supports_v2() const { return their_capabilities && their_capabilities->v2; }
  bool operator==(const State&) const = default;
};

// 0x43, uLEB n, n x 32-byte shared heads. Byte-compatible with encodeSyncState.
Bytes encode_state(const State& state);
// Sets their_have to an empty list (as Automerge does); every other field is default.
// Bytes after the heads are ignored. Errors: "INVALID_SYNC_STATE".
Result<State> decode_state(ByteView data);

}  // namespace peat::doc::sync
