#include "peat/doc/sync/sync.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <unordered_map>

namespace peat::doc::sync {
namespace {

struct HashKey {
  std::size_t operator()(const ChangeHash& h) const {
    std::size_t v;
    std::memcpy(&v, h.data(), sizeof v);  // hashes are uniformly distributed already
    return v;
  }
};

// The change graph as the protocol needs it: stored (causal) order, deps by index (CSR).
class Graph {
 public:
  explicit Graph(Document& doc) {
    ChangeGraph g = doc.change_graph();
    hashes_ = std::move(g.hashes);
    dep_start_ = std::move(g.dep_start);
    deps_ = std::move(g.deps);
    index_.reserve(hashes_.size());
    for (std::size_t i = 0; i < hashes_.size(); ++i) {
      index_.emplace(hashes_[i], static_cast<std::uint32_t>(i));
    }
  }

  std::size_t size() const { return hashes_.size(); }
  const ChangeHash& hash(std::size_t i) const { return hashes_[i]; }
  std::span<const std::uint32_t> deps(std::size_t i) const {
    return {deps_.data() + dep_start_[i], deps_.data() + dep_start_[i + 1]};
  }

  // Marks every change that is `roots` or an ancestor of one; unknown roots are ignored.
  std::vector<bool> ancestors(const std::vector<ChangeHash>& roots) const {
    std::vector<bool> seen(size(), false);
    std::vector<std::uint32_t> stack;
    for (const auto& r : roots) {
      auto it = index_.find(r);
      if (it != index_.end() && !seen[it->second]) {
        seen[it->second] = true;
        stack.push_back(it->second);
      }
    }
    while (!stack.empty()) {
      const std::uint32_t i = stack.back();
      stack.pop_back();
      for (std::uint32_t d : deps(i)) {
        if (!seen[d]) {
          seen[d] = true;
          stack.push_back(d);
        }
      }
    }
    return seen;
  }

  // Changes not covered by `roots`, in stored order.
  std::vector<std::uint32_t> since(const std::vector<ChangeHash>& roots) const {
    const auto covered = ancestors(roots);
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!covered[i]) out.push_back(static_cast<std::uint32_t>(i));
    }
    return out;
  }

  std::optional<std::uint32_t> find(const ChangeHash& h) const {
    auto it = index_.find(h);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::vector<ChangeHash> hashes_;
  std::vector<std::uint32_t> dep_start_;
  std::vector<std::uint32_t> deps_;
  std::unordered_map<ChangeHash, std::uint32_t, HashKey> index_;
};

// Builds the graph on first use: in a steady state most calls need none.
class LazyGraph {
 public:
  explicit LazyGraph(Document& doc) : doc_(doc) {}
  bool built() const { return graph_.has_value(); }
  const Graph& get() {
    if (!graph_) graph_.emplace(doc_);
    return *graph_;
  }

 private:
  Document& doc_;
  std::optional<Graph> graph_;
};

std::vector<ChangeHash> sorted_unique(std::vector<ChangeHash> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool contains(const std::vector<ChangeHash>& v, const ChangeHash& h) {
  return std::find(v.begin(), v.end(), h) != v.end();
}

std::vector<ChangeHash> hashes_to_send_in(LazyGraph& lazy, Document& doc,
                                          const std::vector<ChangeHash>& our_heads,
                                          const std::vector<Have>& have,
                                          const std::vector<ChangeHash>& need) {
  std::vector<ChangeHash> known_need;
  for (const auto& h : need) {
    if (doc.has_change(h)) known_need.push_back(h);
  }
  if (have.empty()) return known_need;

  std::vector<ChangeHash> last_sync;
  for (const auto& h : have) {
    last_sync.insert(last_sync.end(), h.last_sync.begin(), h.last_sync.end());
  }
  last_sync = sorted_unique(std::move(last_sync));
  // Their last sync point is our heads: nothing of ours is newer.
  if (last_sync == our_heads) return known_need;

  const Graph& g = lazy.get();
  const auto candidates = g.since(last_sync);
  std::vector<bool> in_c(g.size(), false);
  std::vector<bool> marked(g.size(), false);
  std::vector<std::uint32_t> stack;
  for (std::uint32_t i : candidates) {
    in_c[i] = true;
    const bool in_some_filter = std::any_of(
        have.begin(), have.end(), [&](const Have& hv) { return hv.bloom.contains(g.hash(i)); });
    if (!in_some_filter) {
      marked[i] = true;
      stack.push_back(i);
    }
  }
  if (!stack.empty()) {
    // Anything depending on a change the peer lacks is lacking too (covers false positives).
    std::vector<std::uint32_t> count(g.size() + 1, 0);
    for (std::uint32_t i : candidates) {
      for (std::uint32_t d : g.deps(i)) {
        if (in_c[d]) ++count[d + 1];
      }
    }
    for (std::size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    std::vector<std::uint32_t> dependents(count.back());
    std::vector<std::uint32_t> fill(count.begin(), count.end() - 1);
    for (std::uint32_t i : candidates) {
      for (std::uint32_t d : g.deps(i)) {
        if (in_c[d]) dependents[fill[d]++] = i;
      }
    }
    while (!stack.empty()) {
      const std::uint32_t i = stack.back();
      stack.pop_back();
      for (std::uint32_t k = count[i]; k < count[i + 1]; ++k) {
        const std::uint32_t dep = dependents[k];
        if (!marked[dep]) {
          marked[dep] = true;
          stack.push_back(dep);
        }
      }
    }
  }

  std::vector<ChangeHash> out;
  for (const auto& h : known_need) {
    const auto i = g.find(h);
    if (!i || !marked[*i]) out.push_back(h);
  }
  for (std::uint32_t i : candidates) {
    if (marked[i]) out.push_back(g.hash(i));
  }
  return out;
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
  LazyGraph g(doc);
  return hashes_to_send_in(g, doc, doc.get_heads(), have, need);
}

std::optional<Message> generate_message(Document& doc, State& state) {
  doc.commit();
  const std::vector<ChangeHash> our_heads = doc.get_heads();
  LazyGraph lazy(doc);

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
    if (sorted_unique(state.shared_heads) != our_heads) {
      const Graph& g = lazy.get();
      for (std::uint32_t i : g.since(state.shared_heads)) fresh.push_back(g.hash(i));
    }
    our_have.push_back(Have{state.shared_heads, BloomFilter::from_hashes(fresh)});
  }

  // The peer's last sync point names changes we do not have: we lost data, start over.
  if (state.their_have && !state.their_have->empty()) {
    const auto& first = state.their_have->front();
    const bool all_known = std::all_of(first.last_sync.begin(), first.last_sync.end(),
                                       [&](const auto& h) { return doc.has_change(h); });
    if (!all_known) {
      Message reset;
      reset.version = MessageVersion::kV1;
      reset.heads = our_heads;
      reset.have.push_back(Have{});
      reset.trailer = our_trailer(state, false);
      return reset;
    }
  }

  const MessageVersion version = state.supports_v2() ? MessageVersion::kV2 : MessageVersion::kV1;
  std::vector<Bytes> changes;
  std::vector<ChangeHash> sent;
  if (!state.peer_read_only && state.their_have && state.their_need) {
    bool whole_doc = state.supports_v2() && state.their_heads && state.their_heads->empty();
    std::vector<ChangeHash> to_send;
    if (!whole_doc) {
      for (const auto& h :
           hashes_to_send_in(lazy, doc, our_heads, *state.their_have, *state.their_need)) {
        if (!state.sent_hashes.count(h)) to_send.push_back(h);
      }
      whole_doc = state.supports_v2() && !to_send.empty() && to_send.size() > lazy.get().size() / 3;
    }
    if (whole_doc) {
      changes.push_back(doc.save());
      if (lazy.built()) {
        const Graph& g = lazy.get();
        for (std::size_t i = 0; i < g.size(); ++i) sent.push_back(g.hash(i));
      } else {
        sent = doc.change_graph().hashes;
      }
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
  // Applying the changes is the only step that can fail: do it before touching the state.
  const bool apply = !message.changes.empty() && !state.read_only;
  if (apply) {
    Bytes joined;
    for (const auto& c : message.changes) joined.insert(joined.end(), c.begin(), c.end());
    PEAT_TRY_STATUS(doc.load_incremental(joined));
  }
  const std::vector<ChangeHash> after = apply ? doc.get_heads() : before;

  state.in_flight = false;
  if (message.trailer) {
    const std::uint8_t flags = message.trailer->flags.value_or(0);
    state.their_capabilities = PeerCapabilities{true, (flags & kFlagSupportsSyncReset) != 0};
    if (flags & kFlagSyncReset) state.sent_hashes.clear();
    state.peer_read_only = (flags & kFlagReadOnly) != 0;
  }

  if (apply) {
    std::vector<ChangeHash> advanced;
    for (const auto& h : after) {
      if (!contains(before, h)) advanced.push_back(h);
    }
    for (const auto& h : state.shared_heads) {
      if (contains(after, h)) advanced.push_back(h);
    }
    state.shared_heads = sorted_unique(std::move(advanced));
  }

  // Forget sent changes the peer now has (ancestors of its heads that we know). When its heads
  // are ours, that is everything we ever sent.
  if (!state.sent_hashes.empty()) {
    if (sorted_unique(message.heads) == after) {
      state.sent_hashes.clear();
    } else {
      const Graph g(doc);
      const auto acked = g.ancestors(message.heads);
      for (std::size_t i = 0; i < g.size(); ++i) {
        if (acked[i]) state.sent_hashes.erase(g.hash(i));
      }
    }
  }

  if (message.changes.empty() && message.heads == before) state.last_sent_heads = message.heads;

  std::vector<ChangeHash> known;
  for (const auto& h : message.heads) {
    if (doc.has_change(h)) known.push_back(h);
  }
  if (known.size() == message.heads.size()) {
    state.shared_heads = message.heads;
    if (message.heads.empty()) {
      state.last_sent_heads.clear();
      state.sent_hashes.clear();
    }
  } else {
    known.insert(known.end(), state.shared_heads.begin(), state.shared_heads.end());
    state.shared_heads = sorted_unique(std::move(known));
  }

  state.their_have = message.have;
  state.their_heads = message.heads;
  state.their_need = message.need;
  return {};
}

Status receive_sync_message(Document& doc, State& state, ByteView message) {
  auto m = decode_message(message);
  if (!m) return m.error();
  return receive_message(doc, state, *m);
}

}  // namespace peat::doc::sync
