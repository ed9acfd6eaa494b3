// The Automerge sync protocol (Kleppmann/Howard Bloom-filter sync, Automerge 3.5 extensions):
// sans-I/O, one State per peer per document, over a reliable in-order stream.
#pragma once

#include <optional>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/document.hpp"
#include "peat/doc/sync/message.hpp"
#include "peat/doc/sync/state.hpp"

namespace peat::doc::sync {

// The next message for the peer, or nullopt when there is nothing to say (in sync, or waiting
// for an answer to a message in flight). Commits the document's open transaction.
std::optional<Message> generate_message(Document& doc, State& state);
std::optional<Bytes> generate_sync_message(Document& doc, State& state);

// Applies a message from the peer: its changes go through Document::load_incremental.
// On a decode or apply error the state is left unchanged.
Status receive_message(Document& doc, State& state, const Message& message);
Status receive_sync_message(Document& doc, State& state, ByteView message);

// The changes (hashes, in send order) the peer lacks according to its have/need: requested
// hashes we have first, then every change no Bloom filter contains, plus its dependents.
std::vector<ChangeHash> hashes_to_send(Document& doc, const std::vector<Have>& have,
                                       const std::vector<ChangeHash>& need);

}  // namespace peat::doc::sync
