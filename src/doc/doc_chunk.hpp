// Document chunks (type 0): the columnar op table and change table, their encoder/decoder, and
// the rebuild of the original changes (with hashes) from a document, verified against its heads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "doc/change.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc {

// One stored op (deletes are not stored; they appear as successors). Actor fields index the
// document's sorted actor table.
struct DocOp {
  OpRef obj;
  OpRef key_elem;
  OpRef id;
  std::string key_str;
  ScalarValue value = Null{};
  std::vector<OpRef> succ;                       // Lamport order
  std::shared_ptr<const std::string> mark_name;  // null: not a mark op
  bool key_is_str = false;                       // fields ordered to avoid padding
  bool insert = false;
  std::uint8_t action = kActSet;
  bool expand = false;
};

struct DocChange {
  std::uint32_t actor = 0;
  std::uint64_t seq = 0;
  std::uint64_t max_op = 0;
  std::int64_t time = 0;
  std::optional<std::string> message;
  std::vector<std::uint64_t> deps;  // row indexes, ordered like the sorted dep hashes
  Bytes extra;
};

struct DocChunk {
  std::vector<ActorId> actors;    // sorted
  std::vector<ChangeHash> heads;  // sorted
  std::vector<DocChange> changes;
  std::vector<DocOp> ops;
  std::vector<std::uint64_t> heads_index;  // may be empty for very old files
};

// Streaming writer of the change table (one row per change, in row order).
class ChangeColumns {
 public:
  // `deps`: row indexes ordered like the sorted dep hashes.
  void add(std::uint32_t actor, std::uint64_t seq, std::uint64_t max_op, std::int64_t time,
           const std::optional<std::string>& message, std::span<const std::uint32_t> deps,
           ByteView extra);
  col::ColumnSet finish();

 private:
  enc::RleEncoder<std::uint64_t> actor_, deps_group_, extra_meta_;
  enc::DeltaEncoder seq_, max_, time_, deps_idx_;
  enc::RleEncoder<std::string> msg_;
  Bytes extra_raw_;
};

// The document chunk body; `compress` deflates columns of 256 bytes or more.
Bytes encode_document_body(const DocChunk& doc, bool compress);
// The same with both tables already encoded (doc.changes and doc.ops are ignored).
Bytes encode_document_body(const DocChunk& doc, const col::ColumnSet& changes,
                           const col::ColumnSet& ops, bool compress);
Result<DocChunk> decode_document_body(ByteView body);

struct RebuiltChange {
  Change change;  // `actors` left empty: its actor fields index the document's table
  Bytes chunk;    // canonical type-1 chunk
  ChangeHash hash{};
};
// Rebuilds every change of the document in row order and checks the stored heads.
Result<std::vector<RebuiltChange>> rebuild_changes(DocChunk doc);
// The same, handing each change to `sink` as soon as it is built (so that the caller can apply
// and drop it) and stopping at the first error `sink` returns. The heads are checked before the
// last change is handed over, and the op table is freed by then (hence `doc` by value).
Status rebuild_changes(DocChunk doc, const std::function<Status(RebuiltChange&)>& sink);

}  // namespace peat::doc
