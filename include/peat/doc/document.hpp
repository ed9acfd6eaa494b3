// Document: an Automerge-compatible CRDT document. Pure: no clock, no randomness, no I/O.
// Edits accumulate in an open transaction until commit(); every read sees the pending edits.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc {

struct CommitOptions {
  std::optional<std::string> message;
  std::int64_t time = 0;  // Unix seconds, as JS writes it; 0 when unknown
};

// One change as stored in the document: header fields and its canonical chunk bytes.
struct ChangeInfo {
  ChangeHash hash{};
  ActorId actor;
  std::uint64_t seq = 0;
  std::uint64_t start_op = 0;
  std::uint64_t max_op = 0;  // start_op + number of ops - 1
  std::int64_t time = 0;
  std::optional<std::string> message;
  std::vector<ChangeHash> deps;  // sorted
};

// The change graph without copies of actors or messages (much cheaper than changes_info()).
struct ChangeGraph {
  std::vector<ChangeHash> hashes;        // every applied change, in changes_info() order
  std::vector<std::uint32_t> dep_start;  // size hashes.size() + 1
  // deps of change i: deps[dep_start[i] .. dep_start[i + 1]), indexes into `hashes` (always
  // smaller than i), ordered by dep hash
  std::vector<std::uint32_t> deps;
};

class Document {
 public:
  explicit Document(ActorId actor);
  ~Document();
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  const ActorId& actor() const;
  void set_actor(ActorId actor);

  // ---- persistence -------------------------------------------------------------------------
  // Loads a document chunk or any sequence of chunks (document, change, compressed change).
  // Verifies checksums and heads; on error nothing is returned.
  static Result<Document> load(ByteView data, ActorId actor);
  // A compacted document chunk (DEFLATE on large columns, as Automerge does). Commits first.
  Bytes save();
  // The same document chunk with no column compressed (comparable across zlib builds, like
  // JS getBackend(doc).saveNoCompress()). Commits first.
  Bytes save_nocompress();
  // Change chunks added since the last save()/save_incremental(); empty when nothing changed.
  Bytes save_incremental();
  // Applies a sequence of chunks; changes whose deps are missing wait in a queue until they
  // arrive. All-or-nothing per call: on error the document is unchanged.
  Status load_incremental(ByteView data);
  // Applies encoded change chunks (same rules as load_incremental).
  Status apply_changes(const std::vector<Bytes>& changes);
  // Applies every change of `other` this document lacks.
  Status merge(Document& other);
  // A copy with a different actor (same history).
  Document fork(ActorId actor);

  // ---- history -----------------------------------------------------------------------------
  std::vector<ChangeHash> get_heads();
  // Encoded change chunks not reachable from `since`, in causal (topological) order.
  std::vector<Bytes> get_changes(const std::vector<ChangeHash>& since);
  // Metadata of every applied change, in the order applied (causal order).
  std::vector<ChangeInfo> changes_info();
  // Hashes and deps of every applied change, same order as changes_info().
  ChangeGraph change_graph();
  std::optional<Bytes> get_change_by_hash(const ChangeHash& hash);
  bool has_change(const ChangeHash& hash) const;
  // Hashes in `heads` (and deps of queued changes) that this document does not have, sorted.
  std::vector<ChangeHash> get_missing_deps(const std::vector<ChangeHash>& heads);

  // ---- editing (opens a transaction if none is open) ----------------------------------------
  Status put(const ObjId& obj, const Prop& prop, ScalarValue value);
  Result<ObjId> put_object(const ObjId& obj, const Prop& prop, ObjType type);
  Status insert(const ObjId& list, std::size_t index, ScalarValue value);
  Result<ObjId> insert_object(const ObjId& list, std::size_t index, ObjType type);
  Status remove(const ObjId& obj, const Prop& prop);
  Status increment(const ObjId& obj, const Prop& prop, std::int64_t by);
  // Text positions count UTF-16 code units, as @automerge/automerge (wasm) does.
  Status splice_text(const ObjId& text, std::size_t pos, std::size_t del, std::string_view insert);
  // Closes the open transaction into a change; nullopt when it had no ops.
  std::optional<ChangeHash> commit(const CommitOptions& options = {});
  // Drops the open transaction's ops.
  void rollback();
  std::size_t pending_ops() const;

  // ---- reading -----------------------------------------------------------------------------
  std::optional<Value> get(const ObjId& obj, const Prop& prop) const;
  // Every visible value at a key (conflicts), ordered by op id ascending: the winner is last.
  std::vector<std::pair<Value, OpId>> get_all(const ObjId& obj, const Prop& prop) const;
  std::vector<std::string> keys(const ObjId& map) const;  // sorted
  std::size_t length(const ObjId& obj) const;             // list elements, text UTF-16 units
  std::string text(const ObjId& text) const;
  std::optional<ObjType> object_type(const ObjId& obj) const;
  std::size_t op_count() const;
  // Largest op counter in the document, including the open transaction's ops; constant time.
  // The next local change starts at max_op() + 1.
  std::uint64_t max_op() const;
  // The visible values of a list (or text elements) in order.
  std::vector<Value> list_values(const ObjId& list) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The document as JSON text: maps → objects, lists → arrays, text → strings, counters → numbers,
// bytes → base64 strings, timestamps → numbers (ms). Keys sorted. Used by the store and CLI.
std::string to_json(Document& doc);

}  // namespace peat::doc
