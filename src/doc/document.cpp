#include "peat/doc/document.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "doc/change.hpp"
#include "doc/chunk.hpp"
#include "doc/doc_chunk.hpp"
#include "doc/encoding.hpp"
#include "doc/op_set.hpp"

namespace peat::doc {

namespace {

struct HashHash {
  std::size_t operator()(const ChangeHash& h) const {
    std::size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

// One applied change. Kept small: a long history of one-op changes holds one per op. Messages
// and extra bytes are rare (a pointer each); deps live in State::dep_pool.
struct ChangeRec {
  ChangeHash hash{};
  std::uint32_t actor = 0;    // OpSet actor index
  std::uint32_t dep_off = 0;  // deps: State::dep_pool[dep_off .. dep_off + dep_n), change
  std::uint32_t dep_n = 0;    // indexes ordered by dep hash
  std::uint32_t chunk_len = 0;
  std::uint64_t seq = 0;
  std::uint64_t start_op = 0;
  std::uint64_t max_op = 0;
  std::int64_t time = 0;
  std::unique_ptr<const std::string> message;  // null: no message
  std::unique_ptr<const Bytes> extra;          // null: none
  std::uint64_t chunk_ref = 0;  // type-1 chunk (canonical or as received) in State::chunks
};

// Change chunk bytes packed into 1 MiB blocks (a large chunk gets a block of its own): no
// allocation and no vector header per change. A reference is block index << 32 | offset.
class ChunkArena {
 public:
  std::uint64_t add(ByteView b) {
    if (b.empty()) return 0;
    std::uint64_t ref;
    if (b.size() > kBlock / 4) {
      blocks_.push_back(std::make_unique_for_overwrite<std::uint8_t[]>(b.size()));
      ref = static_cast<std::uint64_t>(blocks_.size() - 1) << 32;
      std::memcpy(blocks_.back().get(), b.data(), b.size());
      return ref;
    }
    if (open_ == kNoBlock || used_ + b.size() > kBlock) {
      blocks_.push_back(std::make_unique_for_overwrite<std::uint8_t[]>(kBlock));
      open_ = blocks_.size() - 1;
      used_ = 0;
    }
    ref = static_cast<std::uint64_t>(open_) << 32 | used_;
    std::memcpy(blocks_[open_].get() + used_, b.data(), b.size());
    used_ += b.size();
    return ref;
  }
  ByteView get(std::uint64_t ref, std::uint32_t len) const {
    if (len == 0) return {};
    return {blocks_[ref >> 32].get() + (ref & 0xffffffffu), len};
  }

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 20;
  static constexpr std::size_t kNoBlock = SIZE_MAX;
  std::vector<std::unique_ptr<std::uint8_t[]>> blocks_;
  std::size_t open_ = kNoBlock;
  std::size_t used_ = 0;
};

// Changes by hash: open addressing over change indexes (the hashes live in the records, so an
// entry is 4 bytes instead of a hash-map node per change).
class HashIndex {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  std::uint32_t find(const ChangeHash& h, const std::vector<ChangeRec>& recs) const {
    if (slots_.empty()) return kNone;
    for (std::size_t i = HashHash{}(h)&mask();; i = (i + 1) & mask()) {
      const std::uint32_t v = slots_[i];
      if (v == kNone || recs[v].hash == h) return v;
    }
  }
  // Adds recs[idx] (unless a change with its hash is already indexed).
  void insert(std::uint32_t idx, const std::vector<ChangeRec>& recs) {
    if (2 * (size_ + 1) > slots_.size()) rehash(std::max<std::size_t>(64, 2 * slots_.size()), recs);
    if (place(idx, recs)) ++size_;
  }
  void reserve(std::size_t n, const std::vector<ChangeRec>& recs) {
    std::size_t cap = 64;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap, recs);
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }
  bool place(std::uint32_t idx, const std::vector<ChangeRec>& recs) {
    const ChangeHash& h = recs[idx].hash;
    for (std::size_t i = HashHash{}(h)&mask();; i = (i + 1) & mask()) {
      if (slots_[i] == kNone) {
        slots_[i] = idx;
        return true;
      }
      if (recs[slots_[i]].hash == h) return false;
    }
  }
  void rehash(std::size_t cap, const std::vector<ChangeRec>& recs) {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(cap, kNone);
    for (auto v : old) {
      if (v != kNone) place(v, recs);
    }
  }

  std::vector<std::uint32_t> slots_;
  std::size_t size_ = 0;
};

// A change ready to apply: decoded form, its type-1 chunk bytes and hash. Changes rebuilt
// from one document share that document's actor table instead of change.actors.
struct Incoming {
  Change change;
  Bytes chunk;
  ChangeHash hash{};
  std::shared_ptr<const std::vector<ActorId>> table;

  const std::vector<ActorId>& actors() const { return table ? *table : change.actors; }
};

// The applied history and the op set built from it; rebuilt together on rollback.
struct State {
  OpSet ops;
  std::vector<ChangeRec> changes;
  std::vector<std::uint32_t> dep_pool;
  ChunkArena chunks;
  HashIndex by_hash;
  std::vector<std::vector<std::uint32_t>> actor_changes;  // by OpSet actor index
  std::set<ChangeHash> heads;

  std::uint32_t actor(const ActorId& a) {
    auto i = ops.actor_index(a);
    if (actor_changes.size() <= i) actor_changes.resize(i + 1);
    return i;
  }
  // Index of the change with hash `h`, or HashIndex::kNone.
  std::uint32_t find(const ChangeHash& h) const { return by_hash.find(h, changes); }
  bool has(const ChangeHash& h) const { return find(h) != HashIndex::kNone; }
  ByteView chunk(std::size_t i) const {
    return chunks.get(changes[i].chunk_ref, changes[i].chunk_len);
  }
  void set_chunk(ChangeRec& rec, ByteView b) {
    rec.chunk_ref = chunks.add(b);
    rec.chunk_len = static_cast<std::uint32_t>(b.size());
  }
  std::span<const std::uint32_t> deps(std::size_t i) const {
    return {dep_pool.data() + changes[i].dep_off, changes[i].dep_n};
  }
  void reserve(std::size_t more) {
    changes.reserve(changes.size() + more);
    by_hash.reserve(changes.size() + more, changes);
  }

  // `dep_hashes`: sorted, all present.
  void record(ChangeRec rec, const std::vector<ChangeHash>& dep_hashes) {
    auto idx = static_cast<std::uint32_t>(changes.size());
    rec.dep_off = static_cast<std::uint32_t>(dep_pool.size());
    rec.dep_n = static_cast<std::uint32_t>(dep_hashes.size());
    for (const auto& d : dep_hashes) {
      dep_pool.push_back(find(d));
      heads.erase(d);
    }
    heads.insert(rec.hash);
    actor_changes[rec.actor].push_back(idx);
    changes.push_back(std::move(rec));
    by_hash.insert(idx, changes);
  }

  // Actor remapping of the last shared table (document rebuilds reuse one table).
  // Held (not just its address) so that a freed table's address cannot alias a new one.
  std::shared_ptr<const std::vector<ActorId>> cached_table;
  std::vector<std::uint32_t> cached_amap;

  Status apply(Incoming& in) {
    Change& c = in.change;
    const auto& table = in.actors();
    if (c.author >= table.size()) return make_error("INVALID_CHANGE", "bad author index");
    std::vector<std::uint32_t> own_amap;
    const std::vector<std::uint32_t>* amap_ptr;
    if (in.table && in.table == cached_table) {
      amap_ptr = &cached_amap;
    } else {
      own_amap.resize(table.size());
      for (std::size_t i = 0; i < table.size(); ++i) own_amap[i] = actor(table[i]);
      if (in.table) {
        cached_table = in.table;
        cached_amap = std::move(own_amap);
        amap_ptr = &cached_amap;
      } else {
        amap_ptr = &own_amap;
      }
    }
    const auto& amap = *amap_ptr;
    std::uint32_t author = amap[c.author];
    const auto& mine = actor_changes[author];
    if (c.seq != mine.size() + 1) {
      if (c.seq <= mine.size()) {
        return make_error("DUPLICATE_SEQ", "two different changes with the same actor and seq");
      }
      return make_error("INVALID_CHANGE", "change seq skips a number");
    }
    if (!mine.empty() && c.start_op <= changes[mine.back()].max_op) {
      return make_error("INVALID_CHANGE", "change op ids overlap the author's earlier ops");
    }
    if (c.start_op == 0 || c.start_op + c.ops.size() < c.start_op) {
      return make_error("INVALID_CHANGE", "bad startOp");
    }
    for (const auto& d : c.deps) {
      if (!has(d)) return make_error("MISSING_DEPS", "change dependency missing");
    }
    ops.begin_range(author, c.start_op);
    for (std::size_t i = 0; i < c.ops.size(); ++i) {
      ChangeOp& op = c.ops[i];
      if (op.obj.ctr) op.obj.actor = amap[op.obj.actor];
      if (!op.key_is_str && op.key_elem.ctr) op.key_elem.actor = amap[op.key_elem.actor];
      for (auto& p : op.pred) p.actor = amap[p.actor];
      PEAT_TRY_STATUS(ops.apply_op(op, c.start_op + i, author));
    }
    ChangeRec rec;
    rec.hash = in.hash;
    rec.actor = author;
    rec.seq = c.seq;
    rec.start_op = c.start_op;
    rec.max_op = c.max_op();
    rec.time = c.time;
    if (c.message) rec.message = std::make_unique<const std::string>(std::move(*c.message));
    if (!c.extra.empty()) rec.extra = std::make_unique<const Bytes>(std::move(c.extra));
    set_chunk(rec, in.chunk);
    std::vector<ChangeHash> deps = c.deps;
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    record(std::move(rec), deps);
    return {};
  }
};

Error not_found(std::string m) {
  return make_error("NOT_FOUND", std::move(m));
}

}  // namespace

struct Document::Impl {
  ActorId actor;
  std::unique_ptr<State> st = std::make_unique<State>();
  std::vector<Incoming> queue;
  std::size_t saved_upto = 0;

  bool tx_open = false;
  std::uint32_t tx_actor = 0;
  std::uint64_t tx_start = 0;
  std::uint64_t tx_seq = 0;
  std::vector<ChangeHash> tx_deps;
  std::uint32_t tx_first = 0;  // index of the first pending op in the op set
  std::size_t tx_count = 0;
  std::vector<OpRef> tx_preds;             // preds of the pending ops, concatenated
  std::vector<std::uint32_t> tx_pred_end;  // end offset in tx_preds per op

  // ---- transactions --------------------------------------------------------------------------
  void ensure_tx() {
    if (tx_open) return;
    tx_actor = st->actor(actor);
    tx_seq = st->actor_changes[tx_actor].size() + 1;
    tx_start = st->ops.max_op() + 1;
    tx_deps.assign(st->heads.begin(), st->heads.end());
    st->ops.begin_range(tx_actor, tx_start);
    tx_first = static_cast<std::uint32_t>(st->ops.op_count());
    tx_count = 0;
    tx_preds.clear();
    tx_pred_end.clear();
    tx_open = true;
  }

  Status local_op(const ChangeOp& op) {
    ensure_tx();
    PEAT_TRY_STATUS(st->ops.apply_op(op, tx_start + tx_count, tx_actor));
    ++tx_count;
    tx_preds.insert(tx_preds.end(), op.pred.begin(), op.pred.end());
    tx_pred_end.push_back(static_cast<std::uint32_t>(tx_preds.size()));
    return {};
  }

  void clear_tx() {
    tx_open = false;
    tx_count = 0;
    tx_preds.clear();
    tx_pred_end.clear();
  }

  std::optional<ChangeHash> commit(const CommitOptions& o) {
    if (!tx_open) return std::nullopt;
    if (tx_count == 0) {
      clear_tx();
      return std::nullopt;
    }
    Change c;
    c.deps = tx_deps;
    c.seq = tx_seq;
    c.start_op = tx_start;
    c.time = o.time;
    if (o.message && !o.message->empty()) c.message = o.message;
    const OpSet& ops = st->ops;
    Bytes body = encode_change_body(
        c, tx_count,
        [&](std::size_t i, OpView& v, std::vector<OpRef>&) {
          ops.view_for_change(tx_first + static_cast<std::uint32_t>(i), v);
          std::uint32_t b = i == 0 ? 0 : tx_pred_end[i - 1];
          v.refs = std::span<const OpRef>(tx_preds.data() + b, tx_pred_end[i] - b);
        },
        ops.actors(), tx_actor);
    std::size_t n_ops = tx_count;
    clear_tx();
    ChangeRec rec;
    rec.hash = chunk::chunk_hash(chunk::ChunkType::kChange, body);
    st->set_chunk(rec, chunk::frame_chunk(chunk::ChunkType::kChange, rec.hash, body));
    rec.actor = tx_actor;
    rec.seq = c.seq;
    rec.start_op = c.start_op;
    rec.max_op = c.start_op + n_ops - 1;
    rec.time = c.time;
    if (c.message) rec.message = std::make_unique<const std::string>(std::move(*c.message));
    ChangeHash h = rec.hash;
    st->record(std::move(rec), tx_deps);
    return h;
  }

  void close_tx() {
    if (tx_open) commit({});
  }

  // Rebuilds the state from the first `n` recorded changes (used to undo partial work).
  void rebuild(std::size_t n) {
    auto old = std::move(st);
    st = std::make_unique<State>();
    for (std::size_t i = 0; i < n; ++i) {
      const ByteView bytes = old->chunk(i);
      auto raw = chunk::split_chunks(bytes);
      // Stored chunks were validated when first applied; they decode again.
      Incoming in;
      in.change = std::move(decode_change_body(raw->front().body).value());
      in.chunk.assign(bytes.begin(), bytes.end());
      in.hash = old->changes[i].hash;
      (void)st->apply(in);
    }
  }

  // ---- incoming chunks -----------------------------------------------------------------------
  static Result<std::vector<Incoming>> parse_chunks(ByteView data) {
    auto chunks = chunk::split_chunks(data);
    if (!chunks) return chunks.error();
    return parse_chunks(*chunks);
  }

  static Result<std::vector<Incoming>> parse_chunks(const std::vector<chunk::RawChunk>& chunks) {
    std::vector<Incoming> out;
    for (const auto& c : chunks) {
      if (c.type == chunk::ChunkType::kDocument) {
        auto d = decode_document_body(c.body);
        if (!d) return d.error();
        auto table = std::make_shared<const std::vector<ActorId>>(d->actors);
        auto rebuilt = rebuild_changes(std::move(*d));
        if (!rebuilt) return rebuilt.error();
        for (auto& r : *rebuilt) {
          out.push_back(Incoming{std::move(r.change), std::move(r.chunk), r.hash, table});
        }
      } else if (c.type == chunk::ChunkType::kChange) {
        auto ch = decode_change_body(c.body);
        if (!ch) return ch.error();
        out.push_back(
            Incoming{std::move(*ch), chunk::frame_chunk(c.type, c.hash, c.body), c.hash, nullptr});
      } else {
        auto body = chunk::inflate_raw(c.body, std::size_t{1} << 28);
        if (!body) return body.error();
        ChangeHash h = chunk::chunk_hash(chunk::ChunkType::kChange, *body);
        if (!std::equal(c.checksum.begin(), c.checksum.end(), h.begin())) {
          return make_error("BAD_CHECKSUM", "compressed change checksum mismatch");
        }
        auto ch = decode_change_body(*body);
        if (!ch) return ch.error();
        out.push_back(Incoming{
            std::move(*ch), chunk::frame_chunk(chunk::ChunkType::kChange, h, *body), h, nullptr});
      }
    }
    return out;
  }

  // Applies queued + incoming changes in dependency order. On failure, `*bad_queued` names
  // the failing change when it came from the queue rather than from `incoming`.
  Status apply_all(std::vector<Incoming> incoming, std::optional<ChangeHash>* bad_queued) {
    std::vector<Incoming> cands = std::move(queue);
    const std::size_t n_queued = cands.size();
    queue.clear();
    for (auto& i : incoming) cands.push_back(std::move(i));
    st->reserve(cands.size());
    std::vector<std::size_t> missing(cands.size(), 0);
    std::vector<bool> done(cands.size(), false);
    std::unordered_map<ChangeHash, std::vector<std::size_t>, HashHash> waiters;
    std::vector<std::size_t> stack;
    // Duplicates (the same change twice in a batch) are skipped when their turn comes.
    auto apply_at = [&](std::size_t i) -> Status {
      Status r = st->apply(cands[i]);
      if (!r && i < n_queued) *bad_queued = cands[i].hash;
      return r;
    };
    auto apply_one = [&](std::size_t i) -> Status {
      done[i] = true;
      if (st->has(cands[i].hash)) return {};
      PEAT_TRY_STATUS(apply_at(i));
      stack.push_back(i);
      while (!stack.empty()) {
        std::size_t j = stack.back();
        stack.pop_back();
        auto it = waiters.find(cands[j].hash);
        if (it == waiters.end()) continue;
        std::vector<std::size_t> ws = std::move(it->second);
        waiters.erase(it);
        for (auto w : ws) {
          if (--missing[w] == 0 && !done[w]) {
            done[w] = true;
            if (st->has(cands[w].hash)) continue;
            PEAT_TRY_STATUS(apply_at(w));
            stack.push_back(w);
          }
        }
      }
      return {};
    };
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (st->has(cands[i].hash)) {
        done[i] = true;
        continue;
      }
      for (const auto& d : cands[i].change.deps) {
        if (!st->has(d)) {
          ++missing[i];
          waiters[d].push_back(i);
        }
      }
      if (missing[i] == 0) PEAT_TRY_STATUS(apply_one(i));
    }
    std::unordered_set<ChangeHash, HashHash> queued;
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (!done[i] && !st->has(cands[i].hash) && queued.insert(cands[i].hash).second) {
        queue.push_back(std::move(cands[i]));
      }
    }
    return {};
  }

  Status load_bytes(ByteView data) {
    close_tx();
    auto chunks = chunk::split_chunks(data);
    if (!chunks) return chunks.error();
    if (chunks->size() == 1 && chunks->front().type == chunk::ChunkType::kDocument &&
        st->changes.empty() && queue.empty()) {
      return load_document_into_empty(chunks->front().body);
    }
    auto incoming = parse_chunks(*chunks);
    if (!incoming) return incoming.error();
    return apply_guarded(std::move(*incoming));
  }

  // A whole document into an empty one (the common load): each rebuilt change is applied as
  // soon as it is built and then dropped, instead of holding every rebuilt change (ops and
  // chunk bytes) until all are built. Rows come in causal order (the decoder checks that deps
  // point to earlier rows). On error the document is left empty, as it was.
  Status load_document_into_empty(ByteView body) {
    auto d = decode_document_body(body);
    if (!d) return d.error();
    auto table = std::make_shared<const std::vector<ActorId>>(d->actors);
    st->reserve(d->changes.size());
    Status s = rebuild_changes(std::move(*d), [&](RebuiltChange& r) -> Status {
      if (st->has(r.hash)) return {};
      Incoming in{std::move(r.change), std::move(r.chunk), r.hash, table};
      return st->apply(in);
    });
    if (!s) st = std::make_unique<State>();
    return s;
  }

  // All-or-nothing: on failure the state and queue are restored. A queued change that turns
  // out to be invalid once its dependencies arrive is dropped (it would otherwise fail every
  // later call) and the call is retried without it.
  Status apply_guarded(std::vector<Incoming> incoming) {
    while (true) {
      std::size_t before = st->changes.size();
      std::vector<Incoming> queue_before(queue.begin(), queue.end());
      std::vector<Incoming> retry;
      if (!queue.empty()) retry = incoming;
      std::optional<ChangeHash> bad_queued;
      Status s = apply_all(std::move(incoming), &bad_queued);
      if (s) return s;
      rebuild(before);
      queue = std::move(queue_before);
      if (!bad_queued) return s;
      std::erase_if(queue, [&](const Incoming& q) { return q.hash == *bad_queued; });
      incoming = std::move(retry);
    }
  }

  // ---- helpers for the API -------------------------------------------------------------------
  Result<std::uint32_t> obj_index(const ObjId& id) const {
    if (id.counter == 0) return std::uint32_t{0};
    auto a = st->ops.find_actor(id.actor);
    if (!a) return not_found("unknown object " + id.to_string());
    auto o = st->ops.find_object(id.counter, *a);
    if (!o) return not_found("unknown object " + id.to_string());
    return *o;
  }

  OpId to_opid(std::uint32_t op) const {
    const IOp& x = st->ops.op(op);
    return OpId{x.ctr, st->ops.actors()[x.actor]};
  }

  OpRef obj_ref(std::uint32_t obj) const {
    const Object& o = st->ops.object(obj);
    return OpRef{o.ctr, o.actor};
  }

  Value value_of(std::uint32_t op) const {
    const IOp& x = st->ops.op(op);
    switch (x.action) {
      case kActMakeMap:
        return ObjectRef{to_opid(op), ObjType::kMap};
      case kActMakeList:
        return ObjectRef{to_opid(op), ObjType::kList};
      case kActMakeText:
        return ObjectRef{to_opid(op), ObjType::kText};
      case kActMakeTable:
        return ObjectRef{to_opid(op), ObjType::kTable};
      default:
        break;
    }
    if (const auto* c = std::get_if<Counter>(&x.value)) {
      return ScalarValue{
          Counter{static_cast<std::int64_t>(static_cast<std::uint64_t>(c->value) +
                                            static_cast<std::uint64_t>(st->ops.inc_total(op)))}};
    }
    return x.value;
  }

  bool is_seq(std::uint32_t obj) const {
    auto t = st->ops.object_type(obj);
    return t == ObjType::kList || t == ObjType::kText;
  }
  bool by_width(std::uint32_t obj) const { return st->ops.object_type(obj) == ObjType::kText; }

  // Visible ops at a prop, Lamport order; `elem` receives the element for sequences.
  Result<std::vector<std::uint32_t>> visible_at(std::uint32_t obj, const Prop& prop,
                                                std::uint32_t* elem) const {
    if (is_seq(obj)) {
      const auto* idx = std::get_if<std::size_t>(&prop);
      if (!idx) return make_error("INVALID_PROP", "a list or text needs an index");
      auto e = st->ops.nth_visible(obj, static_cast<std::int64_t>(*idx), by_width(obj));
      if (!e || e->second != 0) return make_error("INDEX_OUT_OF_RANGE", "index out of range");
      if (elem) *elem = e->first;
      return st->ops.visible_of_elem(e->first);
    }
    const auto* key = std::get_if<std::string>(&prop);
    if (!key) return make_error("INVALID_PROP", "a map needs a string key");
    return st->ops.visible_at_key(obj, *key);
  }

  Status check_key(const Prop& prop) const {
    if (const auto* k = std::get_if<std::string>(&prop)) {
      if (!enc::valid_utf8(*k)) return make_error("INVALID_UTF8", "map key is not UTF-8");
    }
    return {};
  }

  static Status check_value(const ScalarValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      if (!enc::valid_utf8(*s)) return make_error("INVALID_UTF8", "string value is not UTF-8");
    }
    if (const auto* u = std::get_if<UnknownValue>(&v)) {
      if (u->type_code < 10 || u->type_code > 15) {
        return make_error("INVALID_VALUE", "unknown value type codes are 10..15");
      }
    }
    return {};
  }

  // Builds the op for put/put_object/remove/increment at prop.
  Result<ChangeOp> prop_op(const ObjId& obj_id, const Prop& prop, std::uint8_t action,
                           ScalarValue value, bool counters_only) {
    auto obj = obj_index(obj_id);
    if (!obj) return obj.error();
    PEAT_TRY_STATUS(check_key(prop));
    std::uint32_t elem = kNone;
    auto vis = visible_at(*obj, prop, &elem);
    if (!vis) return vis.error();
    ChangeOp op;
    op.obj = obj_ref(*obj);
    if (is_seq(*obj)) {
      op.key_elem = st->ops.op_ref(elem);
    } else {
      op.key_is_str = true;
      op.key_str = std::get<std::string>(prop);
    }
    op.action = action;
    op.value = std::move(value);
    for (auto v : *vis) {
      if (counters_only && !std::holds_alternative<Counter>(st->ops.op(v).value)) continue;
      op.pred.push_back(st->ops.op_ref(v));
    }
    return op;
  }

  Result<ChangeOp> insert_op(const ObjId& list, std::size_t index, std::uint8_t action,
                             ScalarValue value) {
    auto obj = obj_index(list);
    if (!obj) return obj.error();
    if (!is_seq(*obj)) return make_error("NOT_A_SEQUENCE", "insert into a map");
    ChangeOp op;
    op.obj = obj_ref(*obj);
    op.insert = true;
    op.action = action;
    op.value = std::move(value);
    auto ref = ref_before(*obj, index);
    if (!ref) return ref.error();
    op.key_elem = *ref == kNone ? OpRef{} : st->ops.op_ref(*ref);
    return op;
  }

  // The element an insert at `index` chains to (kNone = head).
  Result<std::uint32_t> ref_before(std::uint32_t obj, std::size_t index) const {
    if (index == 0) return kNone;
    bool w = by_width(obj);
    auto len = st->ops.seq_length(obj, w);
    if (static_cast<std::int64_t>(index) > len) {
      return make_error("INDEX_OUT_OF_RANGE", "index past the end");
    }
    auto e = st->ops.nth_visible(obj, static_cast<std::int64_t>(index) - 1, w);
    if (!e) return make_error("INDEX_OUT_OF_RANGE", "index past the end");
    std::int64_t width = w ? st->ops.op(e->first).width : 1;
    if (e->second != width - 1) {
      return make_error("INDEX_OUT_OF_RANGE", "index splits a UTF-16 surrogate pair");
    }
    return e->first;
  }

  ObjId new_obj_id() const { return ObjId{tx_start + tx_count - 1, actor}; }

  // ---- document chunk ------------------------------------------------------------------------
  Bytes save_doc(bool compress) {
    close_tx();
    const auto& actors = st->ops.actors();
    std::vector<std::uint32_t> authors;
    for (std::uint32_t i = 0; i < actors.size(); ++i) {
      if (i < st->actor_changes.size() && !st->actor_changes[i].empty()) authors.push_back(i);
    }
    std::sort(authors.begin(), authors.end(),
              [&](std::uint32_t a, std::uint32_t b) { return actors[a] < actors[b]; });
    std::vector<std::uint32_t> remap(actors.size(), 0);
    DocChunk d;
    for (std::uint32_t i = 0; i < authors.size(); ++i) {
      remap[authors[i]] = i;
      d.actors.push_back(actors[authors[i]]);
    }
    ChangeColumns chcols;
    std::optional<std::string> message;
    for (std::size_t i = 0; i < st->changes.size(); ++i) {
      const ChangeRec& c = st->changes[i];
      if (c.message) {
        message = *c.message;
      } else {
        message.reset();
      }
      chcols.add(remap[c.actor], c.seq, c.max_op, c.time, message, st->deps(i),
                 c.extra ? ByteView(*c.extra) : ByteView{});
    }
    d.heads.assign(st->heads.begin(), st->heads.end());
    for (const auto& h : d.heads) d.heads_index.push_back(st->find(h));
    Bytes out = chunk::write_chunk(
        chunk::ChunkType::kDocument,
        encode_document_body(d, chcols.finish(), st->ops.encode_doc_ops(remap), compress));
    for (const auto& q : queue) out.insert(out.end(), q.chunk.begin(), q.chunk.end());
    saved_upto = st->changes.size();
    return out;
  }

  // Indexes of changes not reachable from `since`, in applied order.
  std::vector<std::uint32_t> changes_since(const std::vector<ChangeHash>& since) const {
    std::vector<bool> covered(st->changes.size(), false);
    std::vector<std::uint32_t> stack;
    for (const auto& h : since) {
      auto i = st->find(h);
      if (i != HashIndex::kNone && !covered[i]) {
        covered[i] = true;
        stack.push_back(i);
      }
    }
    while (!stack.empty()) {
      auto i = stack.back();
      stack.pop_back();
      for (auto d : st->deps(i)) {
        if (!covered[d]) {
          covered[d] = true;
          stack.push_back(d);
        }
      }
    }
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < covered.size(); ++i) {
      if (!covered[i]) out.push_back(i);
    }
    return out;
  }
};

// ---- Document -------------------------------------------------------------------------------

Document::Document(ActorId actor) : impl_(std::make_unique<Impl>()) {
  impl_->actor = std::move(actor);
}
Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

const ActorId& Document::actor() const {
  return impl_->actor;
}
void Document::set_actor(ActorId actor) {
  impl_->close_tx();
  impl_->actor = std::move(actor);
}

Result<Document> Document::load(ByteView data, ActorId actor) {
  Document d(std::move(actor));
  Status s = d.impl_->load_bytes(data);
  if (!s) return s.error();
  d.impl_->saved_upto = d.impl_->st->changes.size();
  return d;
}

Bytes Document::save() {
  return impl_->save_doc(true);
}
Bytes Document::save_nocompress() {
  return impl_->save_doc(false);
}

Bytes Document::save_incremental() {
  impl_->close_tx();
  Bytes out;
  for (std::size_t i = impl_->saved_upto; i < impl_->st->changes.size(); ++i) {
    const ByteView c = impl_->st->chunk(i);
    out.insert(out.end(), c.begin(), c.end());
  }
  impl_->saved_upto = impl_->st->changes.size();
  return out;
}

Status Document::load_incremental(ByteView data) {
  if (data.empty()) return {};
  return impl_->load_bytes(data);
}

Status Document::apply_changes(const std::vector<Bytes>& changes) {
  impl_->close_tx();
  std::vector<Incoming> all;
  for (const auto& c : changes) {
    auto parsed = Impl::parse_chunks(c);
    if (!parsed) return parsed.error();
    for (auto& p : *parsed) all.push_back(std::move(p));
  }
  return impl_->apply_guarded(std::move(all));
}

Status Document::merge(Document& other) {
  impl_->close_tx();
  other.impl_->close_tx();
  std::vector<Incoming> all;
  const State& theirs = *other.impl_->st;
  for (std::size_t i = 0; i < theirs.changes.size(); ++i) {
    if (impl_->st->has(theirs.changes[i].hash)) continue;
    auto parsed = Impl::parse_chunks(theirs.chunk(i));
    if (!parsed) return parsed.error();
    for (auto& p : *parsed) all.push_back(std::move(p));
  }
  return impl_->apply_guarded(std::move(all));
}

Document Document::fork(ActorId actor) {
  impl_->close_tx();
  Document d(std::move(actor));
  Bytes all;
  for (std::size_t i = 0; i < impl_->st->changes.size(); ++i) {
    const ByteView c = impl_->st->chunk(i);
    all.insert(all.end(), c.begin(), c.end());
  }
  for (const auto& q : impl_->queue) all.insert(all.end(), q.chunk.begin(), q.chunk.end());
  if (!all.empty()) (void)d.impl_->load_bytes(all);
  d.impl_->saved_upto = d.impl_->st->changes.size();
  return d;
}

std::vector<ChangeHash> Document::get_heads() {
  impl_->close_tx();
  return {impl_->st->heads.begin(), impl_->st->heads.end()};
}

std::vector<Bytes> Document::get_changes(const std::vector<ChangeHash>& since) {
  impl_->close_tx();
  std::vector<Bytes> out;
  for (auto i : impl_->changes_since(since)) {
    const ByteView c = impl_->st->chunk(i);
    out.emplace_back(c.begin(), c.end());
  }
  return out;
}

std::vector<ChangeInfo> Document::changes_info() {
  impl_->close_tx();
  std::vector<ChangeInfo> out;
  out.reserve(impl_->st->changes.size());
  for (const auto& c : impl_->st->changes) {
    ChangeInfo info;
    info.hash = c.hash;
    info.actor = impl_->st->ops.actors()[c.actor];
    info.seq = c.seq;
    info.start_op = c.start_op;
    info.max_op = c.max_op;
    info.time = c.time;
    if (c.message) info.message = *c.message;
    for (auto d : impl_->st->deps(&c - impl_->st->changes.data())) {
      info.deps.push_back(impl_->st->changes[d].hash);
    }
    std::sort(info.deps.begin(), info.deps.end());
    out.push_back(std::move(info));
  }
  return out;
}

ChangeGraph Document::change_graph() {
  impl_->close_tx();
  const auto& changes = impl_->st->changes;
  ChangeGraph g;
  g.hashes.reserve(changes.size());
  g.dep_start.reserve(changes.size() + 1);
  g.deps.reserve(changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    g.hashes.push_back(changes[i].hash);
    g.dep_start.push_back(static_cast<std::uint32_t>(g.deps.size()));
    const auto deps = impl_->st->deps(i);
    g.deps.insert(g.deps.end(), deps.begin(), deps.end());
  }
  g.dep_start.push_back(static_cast<std::uint32_t>(g.deps.size()));
  return g;
}

std::optional<Bytes> Document::get_change_by_hash(const ChangeHash& hash) {
  impl_->close_tx();
  auto i = impl_->st->find(hash);
  if (i == HashIndex::kNone) return std::nullopt;
  const ByteView c = impl_->st->chunk(i);
  return Bytes(c.begin(), c.end());
}

bool Document::has_change(const ChangeHash& hash) const {
  return impl_->st->has(hash);
}

std::vector<ChangeHash> Document::get_missing_deps(const std::vector<ChangeHash>& heads) {
  std::set<ChangeHash> out;
  std::unordered_set<ChangeHash, HashHash> queued;
  for (const auto& q : impl_->queue) queued.insert(q.hash);
  for (const auto& h : heads) {
    if (!impl_->st->has(h) && !queued.count(h)) out.insert(h);
  }
  for (const auto& q : impl_->queue) {
    for (const auto& d : q.change.deps) {
      if (!impl_->st->has(d) && !queued.count(d)) out.insert(d);
    }
  }
  return {out.begin(), out.end()};
}

Status Document::put(const ObjId& obj, const Prop& prop, ScalarValue value) {
  PEAT_TRY_STATUS(Impl::check_value(value));
  auto op = impl_->prop_op(obj, prop, kActSet, std::move(value), false);
  if (!op) return op.error();
  return impl_->local_op(*op);
}

Result<ObjId> Document::put_object(const ObjId& obj, const Prop& prop, ObjType type) {
  std::uint8_t action = type == ObjType::kMap    ? kActMakeMap
                        : type == ObjType::kList ? kActMakeList
                        : type == ObjType::kText ? kActMakeText
                                                 : kActMakeTable;
  auto op = impl_->prop_op(obj, prop, action, Null{}, false);
  if (!op) return op.error();
  PEAT_TRY_STATUS(impl_->local_op(*op));
  return impl_->new_obj_id();
}

Status Document::insert(const ObjId& list, std::size_t index, ScalarValue value) {
  PEAT_TRY_STATUS(Impl::check_value(value));
  auto op = impl_->insert_op(list, index, kActSet, std::move(value));
  if (!op) return op.error();
  return impl_->local_op(*op);
}

Result<ObjId> Document::insert_object(const ObjId& list, std::size_t index, ObjType type) {
  std::uint8_t action = type == ObjType::kMap    ? kActMakeMap
                        : type == ObjType::kList ? kActMakeList
                        : type == ObjType::kText ? kActMakeText
                                                 : kActMakeTable;
  auto op = impl_->insert_op(list, index, action, Null{});
  if (!op) return op.error();
  PEAT_TRY_STATUS(impl_->local_op(*op));
  return impl_->new_obj_id();
}

Status Document::remove(const ObjId& obj, const Prop& prop) {
  auto op = impl_->prop_op(obj, prop, kActDel, Null{}, false);
  if (!op) return op.error();
  if (op->pred.empty()) return {};  // nothing visible there: no op, as Automerge does
  return impl_->local_op(*op);
}

Status Document::increment(const ObjId& obj, const Prop& prop, std::int64_t by) {
  auto op = impl_->prop_op(obj, prop, kActInc, ScalarValue{by}, true);
  if (!op) return op.error();
  if (op->pred.empty()) return make_error("NOT_A_COUNTER", "no counter at that key");
  return impl_->local_op(*op);
}

Status Document::splice_text(const ObjId& text, std::size_t pos, std::size_t del,
                             std::string_view insert) {
  auto obj = impl_->obj_index(text);
  if (!obj) return obj.error();
  if (impl_->st->ops.object_type(*obj) != ObjType::kText) {
    return make_error("NOT_TEXT", "splice_text on an object that is not text");
  }
  if (!enc::valid_utf8(insert)) return make_error("INVALID_UTF8", "inserted text is not UTF-8");
  OpSet& ops = impl_->st->ops;
  auto ref = impl_->ref_before(*obj, pos);
  if (!ref) return ref.error();
  // Elements to delete: those covering [pos, pos + del).
  std::vector<std::uint32_t> doomed;
  std::int64_t at = static_cast<std::int64_t>(pos);
  std::int64_t end = at + static_cast<std::int64_t>(del);
  while (at < end) {
    auto e = ops.nth_visible(*obj, at, true);
    if (!e) return make_error("INDEX_OUT_OF_RANGE", "delete past the end of the text");
    if (e->second != 0) return make_error("INDEX_OUT_OF_RANGE", "delete splits a character");
    doomed.push_back(e->first);
    at += ops.op(e->first).width;
  }
  OpRef objref = impl_->obj_ref(*obj);
  OpRef prev = *ref == kNone ? OpRef{} : ops.op_ref(*ref);
  std::size_t i = 0;
  while (i < insert.size()) {
    auto c = static_cast<unsigned char>(insert[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    ChangeOp op;
    op.obj = objref;
    op.key_elem = prev;
    op.insert = true;
    op.action = kActSet;
    op.value = std::string(insert.substr(i, len));
    PEAT_TRY_STATUS(impl_->local_op(op));
    prev = OpRef{impl_->tx_start + impl_->tx_count - 1, impl_->tx_actor};
    i += len;
  }
  for (auto e : doomed) {
    ChangeOp op;
    op.obj = objref;
    op.key_elem = ops.op_ref(e);
    op.action = kActDel;
    for (auto v : ops.visible_of_elem(e)) op.pred.push_back(ops.op_ref(v));
    PEAT_TRY_STATUS(impl_->local_op(op));
  }
  return {};
}

std::optional<ChangeHash> Document::commit(const CommitOptions& options) {
  return impl_->commit(options);
}

void Document::rollback() {
  if (!impl_->tx_open) return;
  bool had_ops = impl_->tx_count > 0;
  impl_->clear_tx();
  if (had_ops) impl_->rebuild(impl_->st->changes.size());
}

std::size_t Document::pending_ops() const {
  return impl_->tx_count;
}

std::optional<Value> Document::get(const ObjId& obj, const Prop& prop) const {
  auto o = impl_->obj_index(obj);
  if (!o) return std::nullopt;
  auto vis = impl_->visible_at(*o, prop, nullptr);
  if (!vis || vis->empty()) return std::nullopt;
  return impl_->value_of(vis->back());
}

std::vector<std::pair<Value, OpId>> Document::get_all(const ObjId& obj, const Prop& prop) const {
  std::vector<std::pair<Value, OpId>> out;
  auto o = impl_->obj_index(obj);
  if (!o) return out;
  auto vis = impl_->visible_at(*o, prop, nullptr);
  if (!vis) return out;
  for (auto v : *vis) out.emplace_back(impl_->value_of(v), impl_->to_opid(v));
  return out;
}

std::vector<std::string> Document::keys(const ObjId& map) const {
  std::vector<std::string> out;
  auto o = impl_->obj_index(map);
  if (!o || impl_->is_seq(*o)) return out;
  const auto& ops = impl_->st->ops;
  for (const auto& [k, v] : ops.object(*o).map) {
    if (std::any_of(v.begin(), v.end(), [&](std::uint32_t i) { return ops.op_visible(i); })) {
      out.push_back(k);
    }
  }
  return out;
}

std::size_t Document::length(const ObjId& obj) const {
  auto o = impl_->obj_index(obj);
  if (!o) return 0;
  if (impl_->is_seq(*o)) {
    return static_cast<std::size_t>(impl_->st->ops.seq_length(*o, impl_->by_width(*o)));
  }
  return keys(obj).size();
}

std::string Document::text(const ObjId& text) const {
  std::string out;
  auto o = impl_->obj_index(text);
  if (!o || !impl_->is_seq(*o)) return out;
  const auto& ops = impl_->st->ops;
  for (const auto& c : ops.object(*o).seq->chunks) {
    for (auto e : c->elems) {
      if (!ops.op(e).visible_elem) continue;
      std::uint32_t w = ops.elem_winner(e);
      const IOp& x = ops.op(w);
      if (x.action == kActSet && std::holds_alternative<std::string>(x.value)) {
        out += std::get<std::string>(x.value);
      } else {
        out += "\xef\xbf\xbc";  // U+FFFC
      }
    }
  }
  return out;
}

std::optional<ObjType> Document::object_type(const ObjId& obj) const {
  auto o = impl_->obj_index(obj);
  if (!o) return std::nullopt;
  return impl_->st->ops.object_type(*o);
}

std::size_t Document::op_count() const {
  return impl_->st->ops.op_count();
}

std::uint64_t Document::max_op() const {
  return impl_->st->ops.max_op();
}

std::vector<Value> Document::list_values(const ObjId& list) const {
  std::vector<Value> out;
  auto o = impl_->obj_index(list);
  if (!o || !impl_->is_seq(*o)) return out;
  for (auto e : impl_->st->ops.visible_elems(*o)) {
    out.push_back(impl_->value_of(impl_->st->ops.elem_winner(e)));
  }
  return out;
}

}  // namespace peat::doc
