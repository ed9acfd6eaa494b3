// Change chunks (type 1/2): the decoded form of a change and its canonical encoder/decoder.
// Also the shared column-set helpers and the value codec used by document chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "doc/encoding.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc {

enum Action : std::uint8_t {
  kActMakeMap = 0,
  kActSet = 1,
  kActMakeList = 2,
  kActDel = 3,
  kActMakeText = 4,
  kActInc = 5,
  kActMakeTable = 6,
  kActMark = 7,
};

// An op id whose actor is an index into some actor table (the change's or the document's).
struct OpRef {
  std::uint64_t ctr = 0;
  std::uint32_t actor = 0;
  bool operator==(const OpRef&) const = default;
};

// Fields ordered to avoid padding (a one-change document of n ops holds n of these at load).
struct ChangeOp {
  OpRef obj;       // ctr 0: the root map
  OpRef key_elem;  // ctr 0: _head
  std::string key_str;
  ScalarValue value = Null{};
  std::vector<OpRef> pred;
  std::shared_ptr<const std::string> mark_name;  // null: not a mark op (rare: a pointer)
  bool key_is_str = false;
  bool insert = false;
  std::uint8_t action = kActSet;
  bool expand = false;
};

struct Change {
  std::vector<ChangeHash> deps;  // sorted
  // The actor table the ops index. Decoded changes: [author, other actors sorted]. Changes
  // rebuilt from a document use the document's table, with `author` pointing into it.
  std::vector<ActorId> actors;
  std::uint32_t author = 0;
  std::uint64_t seq = 0;
  std::uint64_t start_op = 0;
  std::int64_t time = 0;
  std::optional<std::string> message;
  std::vector<ChangeOp> ops;  // actor fields index `actors`
  Bytes extra;

  // start_op + ops - 1 (an empty change repeats the previous max).
  std::uint64_t max_op() const { return start_op + ops.size() - 1; }
};

// A borrowed view of one op, for the column encoders.
struct OpView {
  OpRef obj;
  bool key_is_str = false;
  std::string_view key_str;
  OpRef key_elem;
  OpRef id;  // documents only
  bool insert = false;
  std::uint8_t action = kActSet;
  const ScalarValue* value = nullptr;  // null: Null
  std::span<const OpRef> refs;         // pred (changes) or succ (documents)
  bool expand = false;
  const std::string* mark_name = nullptr;
};
// Fills `view` for op i; `scratch` may hold the refs the view points to.
using OpSource = std::function<void(std::size_t i, OpView& view, std::vector<OpRef>& scratch)>;

// Canonical change body from the header fields of `change` (its ops are ignored) and `n` ops
// produced by `source`, whose actor fields index `table`.
Bytes encode_change_body(const Change& change, std::size_t n, const OpSource& source,
                         const std::vector<ActorId>& table, std::uint32_t author);
// Largest op count accepted in one change chunk ("TOO_LARGE" above).
inline constexpr std::size_t kMaxChangeOps = std::size_t{1} << 21;

// Canonical change body. `table` names the actors that the ops' indexes refer to and `author`
// is the author's index in it; the encoder derives the sorted "other actors" list itself.
Bytes encode_change_body(const Change& change, const std::vector<ActorId>& table,
                         std::uint32_t author);
// Parses a change body (type 1 layout). Rejects malformed, unknown or deflated columns.
Result<Change> decode_change_body(ByteView body);

// ---- shared helpers ------------------------------------------------------------------------
namespace col {

// (spec, data) pairs in ascending spec order; empty columns are skipped by write().
struct ColumnSet {
  std::vector<std::pair<std::uint32_t, Bytes>> cols;
  void add(std::uint32_t spec, Bytes data) { cols.emplace_back(spec, std::move(data)); }
  // Writes metadata then data; deflates columns >= 256 bytes when `compress`.
  void write(Bytes& meta_out, Bytes& data_out, bool compress) const;
};

// Parsed column metadata with the data slices resolved; keyed by spec without the deflate bit.
struct ParsedColumns {
  std::map<std::uint32_t, Bytes> cols;
  ByteView get(std::uint32_t spec) const {
    auto it = cols.find(spec);
    return it == cols.end() ? ByteView{} : ByteView(it->second);
  }
};

struct ColumnMeta {
  std::uint32_t spec;
  std::uint64_t len;
};
Result<std::vector<ColumnMeta>> read_column_meta(enc::Reader& r, bool allow_deflate);
Result<ParsedColumns> read_column_data(enc::Reader& r, const std::vector<ColumnMeta>& meta,
                                       const std::vector<std::uint32_t>& known);

// The op columns shared by change chunks (pred columns) and document chunks (id and succ
// columns), with Automerge's omission rules. Actor fields must already be final indexes.
class OpColumns {
 public:
  explicit OpColumns(bool document) : document_(document) {}
  void add(const OpView& op);
  ColumnSet finish();

 private:
  bool document_;
  std::size_t rows_ = 0;
  bool any_expand_ = false;
  enc::RleEncoder<std::uint64_t> obj_actor_, obj_ctr_, key_actor_, id_actor_, action_, meta_,
      ref_group_, ref_actor_;
  enc::DeltaEncoder key_ctr_, id_ctr_, ref_ctr_;
  enc::RleEncoder<std::string> key_str_, mark_name_;
  enc::BoolEncoder insert_, expand_;
  Bytes raw_;
};

void encode_value(const ScalarValue& v, enc::RleEncoder<std::uint64_t>& meta, Bytes& raw);
Result<ScalarValue> decode_value(std::uint64_t meta, enc::Reader& raw);

}  // namespace col
}  // namespace peat::doc
