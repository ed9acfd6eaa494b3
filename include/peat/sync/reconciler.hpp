// One negentropy reconciliation between two peers over sync frames, sans-I/O.
//
// Items are (key, timestamp, id): the store gives one per document with id = SHA-256 of the key
// and the document's heads, so two peers holding the same state of a document have the same
// item. The initiator learns both directions: `have` (ids only it holds; mapped back to its keys)
// and `need` (ids only the peer holds). Unlike the Rust crate, need ids are not dropped: the
// initiator sends them back in a NegentropyNeed frame (0x10) and the responder, which holds them,
// maps them to its keys. Rounds continue until the initiator's negentropy says it is complete.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/sync/negentropy.hpp"

namespace peat::sync {

struct ReconcileItem {
  std::string key;
  std::uint64_t timestamp = 0;
  NegId id{};
};

struct NegIdHash {
  std::size_t operator()(const NegId& id) const noexcept {
    std::size_t h = 0;
    for (int i = 0; i < 8; ++i) h = (h << 8) | id[static_cast<std::size_t>(i)];
    return h;
  }
};

class Reconciler {
 public:
  // Duplicate ids are refused ("DUPLICATE_ITEM"). frame_limit as for Negentropy (0 = unlimited,
  // else >= 4096): bounds every message, at the price of more rounds.
  static Result<Reconciler> create(std::vector<ReconcileItem> items, std::uint64_t frame_limit);

  Reconciler(Reconciler&&) noexcept;
  Reconciler& operator=(Reconciler&&) noexcept;
  ~Reconciler();

  // ---- initiator
  Result<Bytes> initiate();
  struct Step {
    std::optional<Bytes> next;           // next message for the peer; nullopt = complete
    std::vector<std::string> have_keys;  // our keys the peer lacks (found in this step)
    std::vector<NegId> need_ids;         // ids the peer holds and we lack (found in this step)
  };
  Result<Step> on_reply(ByteView message);

  // ---- responder
  Result<Bytes> respond(ByteView message);
  // Our keys for ids the initiator reported as needed; unknown ids are skipped.
  std::vector<std::string> keys_for(const std::vector<NegId>& ids) const;

  std::size_t size() const;
  std::uint64_t rounds() const { return rounds_; }

 private:
  struct State;
  explicit Reconciler(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
  std::uint64_t rounds_ = 0;
};

}  // namespace peat::sync
