#include "peat/doc/sync/sync.hpp"

#include <algorithm>
#include <unordered_map>

namespace peat::doc::sync {
namespace {

struct HashKey {
  std::size_t operator()(const ChangeHash& h) const {
    std::size_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
    return v;
  }
};

// The change graph as the protocol needs it: stored (causal) order, deps by index.
class Graph {
 public:
  explicit Graph(Document& doc) {
    auto infos = doc.changes_info();
    hashes_.reserve(infos.size());
    deps_.resize(infos.size());
    index_.reserve(infos.size());
    for (std::size_t i = 0; i < infos.size(); ++i) {
      hashes_.push_back(infos[i].hash);
      index_.emplace(infos[i].hash, i);
    }
    for (std::size_t i = 0; i < infos.size(); ++i) {
      for (const auto& d : infos[i].deps) {
        auto it = index_.find(d);
        if (it != index_.end()) deps_[i].push_back(it->second);
      }
    }
  }

  std::size_t size() const { return hashes_.size(); }
  const ChangeHash& hash(std::size_t i) const { return hashes_[i]; }
  const std::vector<std::size_t>& deps(std::size_t i) const { return deps_[i]; }

  // Marks every change that is `roots` or an ancestor of one; unknown roots are ignored.
  std::vector<bool> ancestors(const std::vector<ChangeHash>& roots) const {
    std::vector<bool> seen(size(), false);
    std::vector<std::size_t> stack;
    for (const auto& r : roots) {
      auto it = index_.find(r);
      if (it != index_.end() && !seen[it->second]) {
        seen[it->second] = true;
        stack.push_back(it->second);
      }
    }
    while (!stack.empty()) {
      std::size_t i = stack.back();
      stack.pop_back();
      for (std::size_t d : deps_[i]) {
        if (!seen[d]) {
          seen[d] = true;
          stack.push_back(d);
        }
      }
    }
    return seen;
  }

  // Hashes not covered by `since`, in stored order.
  std::vector<std::size_t> since(const std::vector<ChangeHash>& roots) const {
    auto covered = ancestors(roots);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!covered[i]) out.push_back(i);
    }
    return out;
  }

  bool has(const ChangeHash& h) const { return index_.count(h) != 0; }

 private:
  std::vector<ChangeHash> hashes_;
  std::vector<std::vector<std::size_t>> deps_;
  std::unordered_map<ChangeHash, std::size_t, HashKey> index_;
};

std::vector<ChangeHash> hashes_to_send_in(const Graph& g, Document& doc,
                                          const std::vector<Have>& have,
                                          const std::vector<ChangeHash>& need) {
  std::vector<ChangeHash> known_need;
  for (const auto& h : need) {
    if (doc.has_change(h)) known_need.push_back(h);
  }
  if (have.empty()) return known_need;

  std::vector<ChangeHash> last_sync;
  for (const auto& h : have)
    last_sync.insert(last_sync.end(), h.last_sync.begin(), h.last_sync.end());
  const auto candidates = g.since(last_sync);

  std::vector<bool> in_c(g.size(), false);
  std::vector<bool> marked(g.size(), false);
  std::vector<std::size_t> stack;
  for (std::size_t i : candidates) {
    in_c[i] = true;
    const bool in_some_filter = std::any_of(
        have.begin(), have.end(), [&](const Have& hv) { return hv.bloom.contains(g.hash(i)); });
    if (!in_some_filter) {
      marked[i] = true;
      stack.push_back(i);
    }
  }
  // Anything depending on a change the peer lacks is lacking too (covers false positives).
  std::vector<std::vector<std::size_t>> dependents(g.size());
  for (std::size_t i : candidates) {
    for (std::size_t d : g.deps(i)) {
      if (in_c[d]) dependents[d].push_back(i);
    }
  }
  while (!stack.empty()) {
    std::size_t i = stack.back();
    stack.pop_back();
    for (std::size_t dep : dependents[i]) {
      if (!marked[dep]) {
        marked[dep] = true;
        stack.push_back(dep);
      }
    }
  }

  std::unordered_map<ChangeHash, bool, HashKey> marked_hashes;
  for (std::size_t i : candidates) {
    if (marked[i]) marked_hashes.emplace(g.hash(i), true);
  }
  std::vector<ChangeHash> out;
  for (const auto& h : known_need) {
    if (!marked_hashes.count(h)) out.push_back(h);
  }
  for (std::size_t i : candidates) {
    if (marked[i]) out.push_back(g.hash(i));
  }
  return out;
}

std::vector<ChangeHash> sorted_unique(std::vector<ChangeHash> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool contains(const std::vector<ChangeHash>& v, const ChangeHash& h) {
  return std::find(v.begin(), v.end(), h) != v.end();
}

Trailer our_trailer(const State& state, bool reset_flag) {
  std::uint8_t flags = kFlagSupportsSyncReset;
  if (state.read_only) flags |= kFlagReadOnly;
  if (reset_flag) flags |= kFlagSyncReset;
  return Trailer{{kCapabilityV2}, flags};
}

}  // namespace

std::vector<ChangeHash> hashes_to_send(Document& doc, const std::vector<Have>& have,
                                       const std::vector<ChangeHash>& need) {
  Graph g(doc);
  return hashes_to_send_in(g, doc, have, need);
}

std::optional<Message> generate_message(Document& doc, State& state) {
  doc.commit();
  const std::vector<ChangeHash> our_heads = doc.get_heads();
  const Graph g(doc);

  std::vector<ChangeHash> our_need;
  if (!state.read_only) {
    our_need = doc.get_missing_deps(state.their_heads.value_or(std::vector<ChangeHash>{}));
  }

  std::vector<Have> our_have;
  const bool need_only_heads = std::all_of(our_need.begin(), our_need.end(), [&](const auto& h) {
    return state.their_heads && contains(*state.their_heads, h);
  });
  if (need_only_heads) {
    std::vector<ChangeHash> fresh;
    for (std::size_t i : g.since(state.shared_heads)) fresh.push_back(g.hash(i));
    our_have.push_back(Have{state.shared_heads, BloomFilter::from_hashes(fresh)});
  }

  // The peer's last sync point names changes we do not have: we lost data, start over.
  if (state.their_have && !state.their_have->empty()) {
    const auto& first = state.their_have->front();
    const bool all_known = std::all_of(first.last_sync.begin(), first.last_sync.end(),
                                       [&](const auto& h) { return g.has(h); });
    if (!all_known) {
      Message reset;
      reset.version = MessageVersion::kV1;
      reset.heads = our_heads;
      reset.have.push_back(Have{});
      reset.trailer = our_trailer(state, false);
      return reset;
    }
  }

  MessageVersion version = state.supports_v2() ? MessageVersion::kV2 : MessageVersion::kV1;
  std::vector<Bytes> changes;
  std::vector<ChangeHash> sent;
  if (!state.peer_read_only && state.their_have && state.their_need) {
    bool whole_doc = state.supports_v2() && state.their_heads && state.their_heads->empty();
    std::vector<ChangeHash> to_send;
    if (!whole_doc) {
      for (const auto& h : hashes_to_send_in(g, doc, *state.their_have, *state.their_need)) {
        if (!state.sent_hashes.count(h)) to_send.push_back(h);
      }
      whole_doc = state.supports_v2() && to_send.size() > g.size() / 3;
    }
    if (whole_doc) {
      changes.push_back(doc.save());
      for (std::size_t i = 0; i < g.size(); ++i) sent.push_back(g.hash(i));
    } else if (!to_send.empty()) {
      for (const auto& h : to_send) {
        auto chunk = doc.get_change_by_hash(h);
        if (!chunk) continue;
        if (version == MessageVersion::kV2 && !changes.empty()) {
          changes.front().insert(changes.front().end(), chunk->begin(), chunk->end());
        } else {
          changes.push_back(std::move(*chunk));
        }
        sent.push_back(h);
      }
    }
  }

  const bool heads_unchanged = state.last_sent_heads == our_heads;
  const bool heads_equal = state.their_heads && *state.their_heads == our_heads;
  if (heads_unchanged && state.have_responded) {
    if ((heads_equal || state.read_only) && changes.empty()) return std::nullopt;
    if (state.in_flight) return std::nullopt;
  }

  Message m;
  m.version = version;
  m.heads = our_heads;
  bool reset_flag = false;
  if (state.needs_reset) {
    if (state.their_capabilities && state.their_capabilities->sync_reset) {
      reset_flag = true;
    } else {
      m.heads.clear();
    }
    state.needs_reset = false;
  }
  m.need = std::move(our_need);
  m.have = std::move(our_have);
  m.changes = std::move(changes);
  m.trailer = our_trailer(state, reset_flag);

  state.have_responded = true;
  state.last_sent_heads = our_heads;
  state.sent_hashes.insert(sent.begin(), sent.end());
  state.in_flight = true;
  return m;
}

std::optional<Bytes> generate_sync_message(Document& doc, State& state) {
  auto m = generate_message(doc, state);
  if (!m) return std::nullopt;
  return encode_message(*m);
}

Status receive_message(Document& doc, State& state, const Message& message) {
  doc.commit();
  const std::vector<ChangeHash> before = doc.get_heads();
  State next = state;
  next.in_flight = false;

  if (message.trailer) {
    const std::uint8_t flags = message.trailer->flags.value_or(0);
    next.their_capabilities = PeerCapabilities{true, (flags & kFlagSupportsSyncReset) != 0};
    if (flags & kFlagSyncReset) next.sent_hashes.clear();
    next.peer_read_only = (flags & kFlagReadOnly) != 0;
  }

  if (!message.changes.empty() && !state.read_only) {
    Bytes joined;
    for (const auto& c : message.changes) joined.insert(joined.end(), c.begin(), c.end());
    PEAT_TRY_STATUS(doc.load_incremental(joined));
    const std::vector<ChangeHash> after = doc.get_heads();
    std::vector<ChangeHash> advanced;
    for (const auto& h : after) {
      if (!contains(before, h)) advanced.push_back(h);
    }
    for (const auto& h : next.shared_heads) {
      if (contains(after, h)) advanced.push_back(h);
    }
    next.shared_heads = sorted_unique(std::move(advanced));
  }

  // Forget sent changes the peer now has (ancestors of its heads that we know).
  if (!next.sent_hashes.empty()) {
    const Graph g(doc);
    const auto acked = g.ancestors(message.heads);
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (acked[i]) next.sent_hashes.erase(g.hash(i));
    }
  }

  if (message.changes.empty() && message.heads == before) next.last_sent_heads = message.heads;

  std::vector<ChangeHash> known;
  for (const auto& h : message.heads) {
    if (doc.has_change(h)) known.push_back(h);
  }
  if (known.size() == message.heads.size()) {
    next.shared_heads = message.heads;
    if (message.heads.empty()) {
      next.last_sent_heads.clear();
      next.sent_hashes.clear();
    }
  } else {
    known.insert(known.end(), next.shared_heads.begin(), next.shared_heads.end());
    next.shared_heads = sorted_unique(std::move(known));
  }

  next.their_have = message.have;
  next.their_heads = message.heads;
  next.their_need = message.need;
  state = std::move(next);
  return {};
}

Status receive_sync_message(Document& doc, State& state, ByteView message) {
  auto m = decode_message(message);
  if (!m) return m.error();
  return receive_message(doc, state, *m);
}

}  // namespace peat::doc::sync
