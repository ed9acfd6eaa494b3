// The op set: every op of a document, the objects they build (maps, lists, text), and the
// visible state. Sequences are chunked lists with per-chunk visible counts and UTF-16 widths,
// indexed by Fenwick trees, so lookups by index and inserts are logarithmic plus a chunk scan.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "doc/change.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc {

inline constexpr std::uint32_t kNone = 0xffffffffu;

struct SeqChunk;

struct IOp {
  std::uint64_t ctr = 0;
  std::uint32_t actor = 0;          // index into OpSet::actors (insertion order)
  std::uint32_t obj = 0;            // object index
  std::uint32_t key = kNone;        // map: interned key; sequence: element op index (kNone = head)
  std::uint32_t mark_name = kNone;  // interned string
  std::uint32_t non_inc_succ = 0;
  std::uint32_t width = 0;  // insert ops: current visible width (0 when invisible)
  // Successors: the first inline, the rest in OpSet::extra_succ_ (most ops have 0 or 1).
  std::uint32_t succ0 = kNone;
  std::uint32_t succ_more = kNone;
  std::uint8_t action = kActSet;
  bool insert = false;
  bool expand = false;
  bool visible_elem = false;  // insert ops: element currently visible
  ScalarValue value = Null{};
  SeqChunk* chunk = nullptr;  // insert ops: the chunk holding the element
};

struct SeqChunk {
  std::vector<std::uint32_t> elems;
  std::int64_t count = 0;
  std::int64_t width = 0;
  std::uint32_t pos = 0;
};

class Fenwick {
 public:
  void build(const std::vector<std::int64_t>& values);
  void add(std::size_t i, std::int64_t delta);
  std::int64_t prefix(std::size_t n) const;  // sum of [0, n)
  // Smallest i with prefix(i + 1) > k; size() when none.
  std::size_t find(std::int64_t k) const;
  std::size_t size() const { return t_.size(); }

 private:
  std::vector<std::int64_t> t_;
};

struct Sequence {
  std::vector<std::unique_ptr<SeqChunk>> chunks;
  Fenwick fc, fw;
};

struct Object {
  std::uint64_t ctr = 0;
  std::uint32_t actor = 0;
  ObjType type = ObjType::kMap;
  std::map<std::string, std::vector<std::uint32_t>> map;  // key -> ops (Lamport order)
  std::unique_ptr<Sequence> seq;
};

class OpSet {
 public:
  OpSet();

  // ---- actors --------------------------------------------------------------------------------
  std::uint32_t actor_index(const ActorId& a);  // registers when new
  std::optional<std::uint32_t> find_actor(const ActorId& a) const;
  const std::vector<ActorId>& actors() const { return actors_; }

  // ---- applying ------------------------------------------------------------------------------
  // Begins a run of ops by `actor` starting at counter `start`, for id lookups.
  void begin_range(std::uint32_t actor, std::uint64_t start);
  // Applies one op whose id is (ctr, actor); refs use OpSet actor indexes. On error the op set
  // may be partially changed only if the error is reported after validation (never here).
  Status apply_op(const ChangeOp& op, std::uint64_t ctr, std::uint32_t actor);
  std::uint64_t max_op() const { return max_op_; }
  // Sum of the increments applied to a counter op.
  std::int64_t inc_total(std::uint32_t i) const {
    auto it = inc_totals_.find(i);
    return it == inc_totals_.end() ? 0 : it->second;
  }
  std::size_t op_count() const { return ops_.size(); }

  // ---- lookups -------------------------------------------------------------------------------
  std::optional<std::uint32_t> find_object(std::uint64_t ctr, std::uint32_t actor) const;
  std::optional<std::uint32_t> find_op(std::uint64_t ctr, std::uint32_t actor) const;
  const Object& object(std::uint32_t i) const { return objects_[i]; }
  const IOp& op(std::uint32_t i) const { return ops_[i]; }
  std::uint32_t intern_key(const std::string& s);
  bool lamport_less(std::uint32_t a, std::uint32_t b) const;

  // ---- reading -------------------------------------------------------------------------------
  bool op_visible(std::uint32_t i) const;
  // Visible ops at a map key, Lamport order.
  std::vector<std::uint32_t> visible_at_key(std::uint32_t obj, const std::string& key) const;
  // Visible ops of a sequence element, Lamport order.
  std::vector<std::uint32_t> visible_of_elem(std::uint32_t elem) const;
  // Visible element containing unit `i` (units: elements, or UTF-16 units for text when
  // `by_width`), with the offset inside it.
  std::optional<std::pair<std::uint32_t, std::int64_t>> nth_visible(std::uint32_t obj,
                                                                    std::int64_t i,
                                                                    bool by_width) const;
  std::int64_t seq_length(std::uint32_t obj, bool by_width) const;
  // The op whose value an element shows (greatest visible op), or kNone.
  std::uint32_t elem_winner(std::uint32_t elem) const;
  // Visible elements in order.
  std::vector<std::uint32_t> visible_elems(std::uint32_t obj) const;
  ObjType object_type(std::uint32_t obj) const { return objects_[obj].type; }
  OpRef op_ref(std::uint32_t i) const { return OpRef{ops_[i].ctr, ops_[i].actor}; }

  // Encodes the op table in document order; `remap` maps OpSet actor indexes to the sorted
  // document table.
  col::ColumnSet encode_doc_ops(const std::vector<std::uint32_t>& remap) const;
  // Fills a view of op i for a change encoder (actor fields: OpSet indexes); the preds come
  // from the caller.
  void view_for_change(std::uint32_t i, OpView& v) const;

 private:
  struct Range {
    std::uint64_t start;
    std::uint64_t end;  // exclusive
    std::uint32_t first;
  };
  struct ObjKey {
    std::uint64_t ctr;
    std::uint32_t actor;
    bool operator==(const ObjKey&) const = default;
  };
  struct ObjKeyHash {
    std::size_t operator()(const ObjKey& k) const {
      return std::hash<std::uint64_t>()(k.ctr * 0x9e3779b97f4a7c15ull ^ k.actor);
    }
  };

  std::uint32_t elem_of(std::uint32_t op) const { return ops_[op].insert ? op : ops_[op].key; }
  void add_sorted(std::vector<std::uint32_t>& v, std::uint32_t op);
  void refresh_elem(std::uint32_t elem);
  void seq_insert(Sequence& s, std::uint32_t ref, std::uint32_t e);
  void split_chunk(Sequence& s, SeqChunk* c);
  void rebuild_fenwick(Sequence& s);
  bool id_greater(std::uint32_t a, std::uint64_t ctr, std::uint32_t actor) const;

  std::vector<ActorId> actors_;
  std::map<ActorId, std::uint32_t> actor_idx_;
  std::vector<IOp> ops_;
  std::vector<Object> objects_;
  std::unordered_map<ObjKey, std::uint32_t, ObjKeyHash> obj_idx_;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, std::uint32_t> key_idx_;
  std::vector<std::vector<Range>> ranges_;  // per actor
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> elem_updates_;
  std::vector<std::vector<std::uint32_t>> extra_succ_;
  std::unordered_map<std::uint32_t, std::int64_t> inc_totals_;
  std::uint64_t max_op_ = 0;
};

}  // namespace peat::doc
