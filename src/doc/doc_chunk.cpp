#include "doc/doc_chunk.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "doc/chunk.hpp"

namespace peat::doc {

namespace {
using enc::malformed;

// Change table columns.
constexpr std::uint32_t kChActor = 1, kChSeq = 3, kChMaxOp = 19, kChTime = 35, kChMessage = 53,
                        kChDepsGroup = 64, kChDepsIdx = 67, kChExtraMeta = 86, kChExtraRaw = 87;
// Op table columns.
constexpr std::uint32_t kObjActor = 1, kObjCtr = 2, kKeyActor = 17, kKeyCtr = 19, kKeyStr = 21,
                        kIdActor = 33, kIdCtr = 35, kInsert = 52, kAction = 66, kValMeta = 86,
                        kValRaw = 87, kSuccGroup = 128, kSuccActor = 129, kSuccCtr = 131,
                        kExpand = 148, kMarkName = 165;

std::uint64_t ref_key(const OpRef& r) {
  return (r.ctr << 20) ^ r.actor;
}
struct RefHash {
  std::size_t operator()(const OpRef& r) const { return std::hash<std::uint64_t>()(ref_key(r)); }
};

bool lamport_less(const OpRef& a, const OpRef& b) {
  // Valid for the document's sorted actor table.
  return a.ctr != b.ctr ? a.ctr < b.ctr : a.actor < b.actor;
}
}  // namespace

void ChangeColumns::add(std::uint32_t actor, std::uint64_t seq, std::uint64_t max_op,
                        std::int64_t time, const std::optional<std::string>& message,
                        std::span<const std::uint32_t> deps, ByteView extra) {
  actor_.append(actor);
  seq_.append(static_cast<std::int64_t>(seq));
  max_.append(static_cast<std::int64_t>(max_op));
  time_.append(time);
  if (message) {
    msg_.append(*message);
  } else {
    msg_.append_null();
  }
  deps_group_.append(deps.size());
  for (auto d : deps) deps_idx_.append(static_cast<std::int64_t>(d));
  // Extra bytes are written as a bytes value: metadata (len << 4) | 7.
  extra_meta_.append((static_cast<std::uint64_t>(extra.size()) << 4) | 7);
  extra_raw_.insert(extra_raw_.end(), extra.begin(), extra.end());
}

col::ColumnSet ChangeColumns::finish() {
  col::ColumnSet chs;
  chs.add(kChActor, actor_.finish());
  chs.add(kChSeq, seq_.finish());
  chs.add(kChMaxOp, max_.finish());
  chs.add(kChTime, time_.finish());
  chs.add(kChMessage, msg_.finish());
  chs.add(kChDepsGroup, deps_group_.finish());
  chs.add(kChDepsIdx, deps_idx_.finish());
  chs.add(kChExtraMeta, extra_meta_.finish());
  chs.add(kChExtraRaw, std::move(extra_raw_));
  return chs;
}

Bytes encode_document_body(const DocChunk& doc, bool compress) {
  // Op table.
  col::OpColumns opcols(true);
  for (const auto& op : doc.ops) {
    OpView v;
    v.obj = op.obj;
    v.key_is_str = op.key_is_str;
    v.key_str = op.key_str;
    v.key_elem = op.key_elem;
    v.id = op.id;
    v.insert = op.insert;
    v.action = op.action;
    v.value = &op.value;
    v.refs = op.succ;
    v.expand = op.expand;
    v.mark_name = op.mark_name ? &*op.mark_name : nullptr;
    opcols.add(v);
  }
  ChangeColumns chcols;
  std::vector<std::uint32_t> deps;
  for (const auto& c : doc.changes) {
    deps.assign(c.deps.begin(), c.deps.end());
    chcols.add(c.actor, c.seq, c.max_op, c.time, c.message, deps, c.extra);
  }
  return encode_document_body(doc, chcols.finish(), opcols.finish(), compress);
}

Bytes encode_document_body(const DocChunk& doc, const col::ColumnSet& chs,
                           const col::ColumnSet& ops, bool compress) {
  Bytes body;
  enc::put_uleb(body, doc.actors.size());
  for (const auto& a : doc.actors) {
    enc::put_uleb(body, a.size());
    body.insert(body.end(), a.begin(), a.end());
  }
  enc::put_uleb(body, doc.heads.size());
  for (const auto& h : doc.heads) body.insert(body.end(), h.begin(), h.end());
  Bytes ch_meta, ch_data, op_meta, op_data;
  chs.write(ch_meta, ch_data, compress);
  ops.write(op_meta, op_data, compress);
  body.insert(body.end(), ch_meta.begin(), ch_meta.end());
  body.insert(body.end(), op_meta.begin(), op_meta.end());
  body.insert(body.end(), ch_data.begin(), ch_data.end());
  body.insert(body.end(), op_data.begin(), op_data.end());
  for (auto i : doc.heads_index) enc::put_uleb(body, i);
  return body;
}

namespace {
template <typename T>
Status check_len(const std::vector<T>& v, std::size_t n, const char* name) {
  if (!v.empty() && v.size() != n) {
    return make_error("MALFORMED", std::string("column ") + name + " has the wrong length");
  }
  return {};
}
}  // namespace

#define PEAT_DOC_TRY_ASSIGN(var, expr)  \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r

Result<DocChunk> decode_document_body(ByteView body) {
  enc::Reader r(body);
  DocChunk d;
  PEAT_DOC_TRY_ASSIGN(nactors, r.uleb());
  if (nactors > r.remaining()) return malformed("too many actors");
  for (std::uint64_t i = 0; i < nactors; ++i) {
    PEAT_DOC_TRY_ASSIGN(len, r.uleb());
    PEAT_DOC_TRY_ASSIGN(b, r.take(len));
    d.actors.emplace_back(b.begin(), b.end());
  }
  for (std::size_t i = 1; i < d.actors.size(); ++i) {
    if (!(d.actors[i - 1] < d.actors[i])) return malformed("document actors are not sorted");
  }
  PEAT_DOC_TRY_ASSIGN(nheads, r.uleb());
  if (nheads > r.remaining() / 32) return malformed("too many heads");
  for (std::uint64_t i = 0; i < nheads; ++i) {
    PEAT_DOC_TRY_ASSIGN(h, r.take(32));
    ChangeHash hash;
    std::memcpy(hash.data(), h.data(), 32);
    d.heads.push_back(hash);
  }
  PEAT_DOC_TRY_ASSIGN(ch_meta, col::read_column_meta(r, true));
  PEAT_DOC_TRY_ASSIGN(op_meta, col::read_column_meta(r, true));
  PEAT_DOC_TRY_ASSIGN(
      chc, col::read_column_data(r, ch_meta,
                                 {kChActor, kChSeq, kChMaxOp, kChTime, kChMessage, kChDepsGroup,
                                  kChDepsIdx, kChExtraMeta, kChExtraRaw}));
  PEAT_DOC_TRY_ASSIGN(
      opc, col::read_column_data(
               r, op_meta,
               {kObjActor, kObjCtr, kKeyActor, kKeyCtr, kKeyStr, kIdActor, kIdCtr, kInsert, kAction,
                kValMeta, kValRaw, kSuccGroup, kSuccActor, kSuccCtr, kExpand, kMarkName}));
  while (!r.done()) {
    PEAT_DOC_TRY_ASSIGN(hi, r.uleb());
    d.heads_index.push_back(hi);
  }
  if (!d.heads_index.empty() && d.heads_index.size() != d.heads.size()) {
    return malformed("heads index does not match the heads");
  }

  // Change rows.
  PEAT_DOC_TRY_ASSIGN(c_actor, enc::decode_uleb_rle(chc.get(kChActor)));
  PEAT_DOC_TRY_ASSIGN(c_seq, enc::decode_delta(chc.get(kChSeq)));
  PEAT_DOC_TRY_ASSIGN(c_max, enc::decode_delta(chc.get(kChMaxOp)));
  PEAT_DOC_TRY_ASSIGN(c_time, enc::decode_delta(chc.get(kChTime)));
  PEAT_DOC_TRY_ASSIGN(c_msg, enc::decode_string_rle(chc.get(kChMessage)));
  PEAT_DOC_TRY_ASSIGN(c_dgroup, enc::decode_uleb_rle(chc.get(kChDepsGroup)));
  PEAT_DOC_TRY_ASSIGN(c_didx, enc::decode_delta(chc.get(kChDepsIdx), 2 * enc::kMaxColumnRows));
  PEAT_DOC_TRY_ASSIGN(c_emeta, enc::decode_uleb_rle(chc.get(kChExtraMeta)));
  std::size_t nc = std::max({c_actor.size(), c_seq.size(), c_max.size(), c_time.size(),
                             c_msg.size(), c_dgroup.size(), c_emeta.size()});
  PEAT_TRY_STATUS(check_len(c_actor, nc, "change actor"));
  PEAT_TRY_STATUS(check_len(c_seq, nc, "change seq"));
  PEAT_TRY_STATUS(check_len(c_max, nc, "change maxOp"));
  PEAT_TRY_STATUS(check_len(c_time, nc, "change time"));
  PEAT_TRY_STATUS(check_len(c_msg, nc, "change message"));
  PEAT_TRY_STATUS(check_len(c_dgroup, nc, "change deps"));
  PEAT_TRY_STATUS(check_len(c_emeta, nc, "change extra"));
  if (nc > 0 && (c_actor.empty() || c_seq.empty() || c_max.empty())) {
    return malformed("change table lacks a required column");
  }
  enc::Reader extra_raw(chc.get(kChExtraRaw));
  std::size_t didx = 0;
  for (std::size_t i = 0; i < nc; ++i) {
    DocChange c;
    if (!c_actor[i] || *c_actor[i] >= d.actors.size()) return malformed("bad change actor");
    c.actor = static_cast<std::uint32_t>(*c_actor[i]);
    if (!c_seq[i] || *c_seq[i] <= 0 || !c_max[i] || *c_max[i] < 0) {
      return malformed("bad change seq/maxOp");
    }
    c.seq = static_cast<std::uint64_t>(*c_seq[i]);
    c.max_op = static_cast<std::uint64_t>(*c_max[i]);
    c.time = c_time.empty() || !c_time[i] ? 0 : *c_time[i];
    c.message = c_msg.empty() ? std::nullopt : c_msg[i];
    std::uint64_t nd = c_dgroup.empty() || !c_dgroup[i] ? 0 : *c_dgroup[i];
    if (nd > c_didx.size() - didx) return malformed("deps group exceeds dep index column");
    for (std::uint64_t k = 0; k < nd; ++k, ++didx) {
      if (!c_didx[didx] || *c_didx[didx] < 0 || static_cast<std::size_t>(*c_didx[didx]) >= i) {
        return malformed("dep index does not point to an earlier change");
      }
      c.deps.push_back(static_cast<std::uint64_t>(*c_didx[didx]));
    }
    if (!c_emeta.empty() && c_emeta[i]) {
      PEAT_DOC_TRY_ASSIGN(ev, col::decode_value(*c_emeta[i], extra_raw));
      if (auto* b = std::get_if<Bytes>(&ev)) {
        c.extra = *b;
      } else if (!std::holds_alternative<Null>(ev)) {
        return malformed("change extra bytes are not a bytes value");
      }
    }
    d.changes.push_back(std::move(c));
  }
  if (didx != c_didx.size()) return malformed("unused dep indexes");

  // Op rows.
  PEAT_DOC_TRY_ASSIGN(obj_actor, enc::decode_uleb_rle(opc.get(kObjActor)));
  PEAT_DOC_TRY_ASSIGN(obj_ctr, enc::decode_uleb_rle(opc.get(kObjCtr)));
  PEAT_DOC_TRY_ASSIGN(key_actor, enc::decode_uleb_rle(opc.get(kKeyActor)));
  PEAT_DOC_TRY_ASSIGN(key_ctr, enc::decode_delta(opc.get(kKeyCtr)));
  PEAT_DOC_TRY_ASSIGN(key_str, enc::decode_string_rle(opc.get(kKeyStr)));
  PEAT_DOC_TRY_ASSIGN(id_actor, enc::decode_uleb_rle(opc.get(kIdActor)));
  PEAT_DOC_TRY_ASSIGN(id_ctr, enc::decode_delta(opc.get(kIdCtr)));
  PEAT_DOC_TRY_ASSIGN(insert, enc::decode_bool(opc.get(kInsert)));
  PEAT_DOC_TRY_ASSIGN(action, enc::decode_uleb_rle(opc.get(kAction)));
  PEAT_DOC_TRY_ASSIGN(vmeta, enc::decode_uleb_rle(opc.get(kValMeta)));
  PEAT_DOC_TRY_ASSIGN(sgroup, enc::decode_uleb_rle(opc.get(kSuccGroup)));
  PEAT_DOC_TRY_ASSIGN(sactor, enc::decode_uleb_rle(opc.get(kSuccActor), 2 * enc::kMaxColumnRows));
  PEAT_DOC_TRY_ASSIGN(sctr, enc::decode_delta(opc.get(kSuccCtr), 2 * enc::kMaxColumnRows));
  PEAT_DOC_TRY_ASSIGN(expand, enc::decode_bool(opc.get(kExpand)));
  PEAT_DOC_TRY_ASSIGN(mname, enc::decode_string_rle(opc.get(kMarkName)));
  std::size_t n =
      std::max({obj_actor.size(), obj_ctr.size(), key_actor.size(), key_ctr.size(), key_str.size(),
                id_actor.size(), id_ctr.size(), insert.size(), action.size(), vmeta.size(),
                sgroup.size(), expand.size(), mname.size()});
  PEAT_TRY_STATUS(check_len(obj_actor, n, "obj actor"));
  PEAT_TRY_STATUS(check_len(obj_ctr, n, "obj ctr"));
  PEAT_TRY_STATUS(check_len(key_actor, n, "key actor"));
  PEAT_TRY_STATUS(check_len(key_ctr, n, "key ctr"));
  PEAT_TRY_STATUS(check_len(key_str, n, "key str"));
  PEAT_TRY_STATUS(check_len(id_actor, n, "id actor"));
  PEAT_TRY_STATUS(check_len(id_ctr, n, "id ctr"));
  PEAT_TRY_STATUS(check_len(insert, n, "insert"));
  PEAT_TRY_STATUS(check_len(action, n, "action"));
  PEAT_TRY_STATUS(check_len(vmeta, n, "value meta"));
  PEAT_TRY_STATUS(check_len(sgroup, n, "succ group"));
  PEAT_TRY_STATUS(check_len(expand, n, "expand"));
  PEAT_TRY_STATUS(check_len(mname, n, "mark name"));
  if (n > 0 && (id_actor.empty() || id_ctr.empty() || action.empty())) {
    return malformed("op table lacks a required column");
  }
  if (sactor.size() != sctr.size()) return malformed("succ columns differ in length");
  auto na = d.actors.size();
  auto get_ref = [&](const std::optional<std::uint64_t>& a,
                     const std::optional<std::int64_t>& ctr) -> Result<OpRef> {
    if (!a || !ctr || *a >= na || *ctr <= 0) return malformed("invalid op id");
    return OpRef{static_cast<std::uint64_t>(*ctr), static_cast<std::uint32_t>(*a)};
  };
  enc::Reader raw(opc.get(kValRaw));
  std::size_t sidx = 0;
  d.ops.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    DocOp op;
    std::optional<std::uint64_t> oa = obj_actor.empty() ? std::nullopt : obj_actor[i];
    std::optional<std::uint64_t> oc = obj_ctr.empty() ? std::nullopt : obj_ctr[i];
    if (oa || oc) {
      if (oc && *oc > static_cast<std::uint64_t>(INT64_MAX)) return malformed("bad obj id");
      PEAT_DOC_TRY_ASSIGN(
          ref, get_ref(oa, oc ? std::optional<std::int64_t>(static_cast<std::int64_t>(*oc))
                              : std::nullopt));
      op.obj = ref;
    }
    std::optional<std::uint64_t> ka = key_actor.empty() ? std::nullopt : key_actor[i];
    std::optional<std::int64_t> kc = key_ctr.empty() ? std::nullopt : key_ctr[i];
    std::optional<std::string> ks = key_str.empty() ? std::nullopt : key_str[i];
    if (ks) {
      if (ka || kc) return malformed("op has both a string key and an element key");
      op.key_is_str = true;
      op.key_str = std::move(*ks);
    } else if (!ka && kc && *kc == 0) {
      op.key_elem = OpRef{};
    } else {
      PEAT_DOC_TRY_ASSIGN(ref, get_ref(ka, kc));
      op.key_elem = ref;
    }
    PEAT_DOC_TRY_ASSIGN(id, get_ref(id_actor[i], id_ctr[i]));
    op.id = id;
    op.insert = insert.empty() ? false : static_cast<bool>(insert[i]);
    if (!action[i] || *action[i] > 7 || *action[i] == kActDel) {
      return make_error("INVALID_ACTION", "unknown or invalid op action in document");
    }
    op.action = static_cast<std::uint8_t>(*action[i]);
    std::uint64_t m = vmeta.empty() || !vmeta[i] ? 0 : *vmeta[i];
    PEAT_DOC_TRY_ASSIGN(v, col::decode_value(m, raw));
    op.value = std::move(v);
    if (op.action == kActInc && !std::holds_alternative<std::int64_t>(op.value) &&
        !std::holds_alternative<std::uint64_t>(op.value)) {
      return malformed("increment with a non-integer value");
    }
    std::uint64_t ns = sgroup.empty() || !sgroup[i] ? 0 : *sgroup[i];
    if (ns > sactor.size() - sidx) return malformed("succ group exceeds succ columns");
    for (std::uint64_t k = 0; k < ns; ++k, ++sidx) {
      PEAT_DOC_TRY_ASSIGN(s, get_ref(sactor[sidx], sctr[sidx]));
      op.succ.push_back(s);
    }
    op.expand = expand.empty() ? false : static_cast<bool>(expand[i]);
    if (!mname.empty() && mname[i]) {
      op.mark_name = std::make_shared<const std::string>(std::move(*mname[i]));
    }
    if (op.insert && op.key_is_str) return malformed("insert op with a map key");
    d.ops.push_back(std::move(op));
  }
  if (sidx != sactor.size()) return malformed("unused succ entries");
  if (!raw.done()) return malformed("unused raw value bytes");
  return d;
}

namespace {
Status check_heads(const DocChunk& doc, const std::vector<ChangeHash>& hashes) {
  std::vector<bool> is_dep(hashes.size(), false);
  for (const auto& c : doc.changes) {
    for (auto d : c.deps) is_dep[d] = true;
  }
  std::vector<ChangeHash> heads;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (!is_dep[i]) heads.push_back(hashes[i]);
  }
  std::sort(heads.begin(), heads.end());
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  std::vector<ChangeHash> stored = doc.heads;
  std::sort(stored.begin(), stored.end());
  if (heads != stored) {
    return make_error("MISMATCHING_HEADS",
                      "the heads rebuilt from the document do not match its stored heads");
  }
  return {};
}
}  // namespace

Result<std::vector<RebuiltChange>> rebuild_changes(DocChunk doc) {
  std::vector<RebuiltChange> out;
  out.reserve(doc.changes.size());
  PEAT_TRY_STATUS(rebuild_changes(std::move(doc), [&](RebuiltChange& c) -> Status {
    out.push_back(std::move(c));
    return {};
  }));
  return out;
}

Status rebuild_changes(DocChunk doc, const std::function<Status(RebuiltChange&)>& sink) {
  const std::size_t nc = doc.changes.size();
  // Per actor: change rows in order, checking seq continuity and non-decreasing maxOp.
  std::vector<std::vector<std::size_t>> by_actor(doc.actors.size());
  for (std::size_t i = 0; i < nc; ++i) {
    const auto& c = doc.changes[i];
    auto& rows = by_actor[c.actor];
    std::uint64_t expect = rows.size() + 1;
    if (c.seq != expect) return malformed("document change seq numbers are not contiguous");
    if (!rows.empty() && doc.changes[rows.back()].max_op > c.max_op) {
      return malformed("document change maxOp decreases");
    }
    rows.push_back(i);
  }
  std::vector<ChangeHash> hashes(nc);
  auto owner = [&](const OpRef& id) -> Result<std::size_t> {
    if (id.actor >= by_actor.size()) return malformed("op id actor out of range");
    const auto& rows = by_actor[id.actor];
    auto it = std::lower_bound(rows.begin(), rows.end(), id.ctr, [&](std::size_t row, auto ctr) {
      return doc.changes[row].max_op < ctr;
    });
    if (it == rows.end()) return malformed("op id is not covered by any change");
    return *it;
  };

  // Stored ops by id: a dense table per actor when counters are compact, else a hash map.
  std::uint64_t max_ctr = 0;
  for (const auto& op : doc.ops) max_ctr = std::max(max_ctr, op.id.ctr);
  for (const auto& c : doc.changes) max_ctr = std::max(max_ctr, c.max_op);
  const std::uint64_t dense_cells = 8 * static_cast<std::uint64_t>(doc.ops.size()) + 4096;
  const bool dense =
      max_ctr < dense_cells / std::max<std::uint64_t>(doc.actors.size(), 1);  // no overflow
  std::vector<std::vector<std::uint32_t>> dense_index;
  std::unordered_map<OpRef, std::size_t, RefHash> sparse_index;
  if (dense) {
    dense_index.assign(doc.actors.size(), std::vector<std::uint32_t>(max_ctr + 1, 0));
  } else {
    sparse_index.reserve(doc.ops.size());
  }
  for (std::size_t i = 0; i < doc.ops.size(); ++i) {
    const OpRef& id = doc.ops[i].id;
    bool fresh;
    if (dense) {
      auto& slot = dense_index[id.actor][id.ctr];
      fresh = slot == 0;
      slot = static_cast<std::uint32_t>(i + 1);
    } else {
      fresh = sparse_index.emplace(id, i).second;
    }
    if (!fresh) return malformed("duplicate op id");
  }
  auto stored_at = [&](const OpRef& id) -> std::optional<std::size_t> {
    if (dense) {
      if (id.ctr > max_ctr) return std::nullopt;
      auto v = dense_index[id.actor][id.ctr];
      if (v == 0) return std::nullopt;
      return v - 1;
    }
    auto it = sparse_index.find(id);
    if (it == sparse_index.end()) return std::nullopt;
    return it->second;
  };

  // Pass 1: the smallest counter of every change (stored ops and deletes).
  std::vector<std::uint64_t> min_ctr(nc, UINT64_MAX);
  std::size_t total_succ = 0;
  for (const auto& op : doc.ops) {
    auto row = owner(op.id);
    if (!row) return row.error();
    min_ctr[*row] = std::min(min_ctr[*row], op.id.ctr);
    total_succ += op.succ.size();
    for (const auto& s : op.succ) {
      if (stored_at(s)) continue;
      auto srow = owner(s);
      if (!srow) return srow.error();
      min_ctr[*srow] = std::min(min_ctr[*srow], s.ctr);
    }
  }
  // Slots: one per op counter of each change; a stored op or a delete.
  struct Slot {
    const DocOp* stored = nullptr;
    const DocOp* target = nullptr;  // deletes: the first op they delete (obj/key source)
    std::vector<OpRef> pred;        // deletes only
  };
  std::vector<std::vector<Slot>> slots(nc);
  std::size_t budget = doc.ops.size() + total_succ;
  for (std::size_t i = 0; i < nc; ++i) {
    if (min_ctr[i] == UINT64_MAX) continue;
    std::uint64_t n = doc.changes[i].max_op - min_ctr[i] + 1;
    if (n > budget) return malformed("change op counters are not contiguous");
    budget -= n;
    slots[i].resize(n);
  }
  std::vector<std::vector<OpRef>> preds(doc.ops.size());
  auto key_of = [](const DocOp& o) { return o.insert ? o.id : o.key_elem; };
  for (const auto& op : doc.ops) {
    auto row = owner(op.id);
    Slot& mine = slots[*row][op.id.ctr - min_ctr[*row]];
    if (mine.stored || mine.target) return malformed("duplicate op id");
    mine.stored = &op;
  }
  for (const auto& op : doc.ops) {
    for (const auto& s : op.succ) {
      if (auto si = stored_at(s)) {
        preds[*si].push_back(op.id);
        continue;
      }
      auto srow = owner(s);
      Slot& d = slots[*srow][s.ctr - min_ctr[*srow]];
      if (d.stored) return malformed("duplicate op id");
      if (!d.target) {
        d.target = &op;
      } else {
        const DocOp* t = d.target;
        bool same_key = t->obj == op.obj && t->key_is_str == op.key_is_str &&
                        (t->key_is_str ? t->key_str == op.key_str : key_of(*t) == key_of(op));
        if (!same_key) return malformed("delete op targets ops under different keys");
      }
      d.pred.push_back(op.id);
    }
  }
  std::vector<std::uint64_t> prev_max(doc.actors.size(), 0);
  for (std::size_t i = 0; i < nc; ++i) {
    const auto& dc = doc.changes[i];
    auto& s = slots[i];
    RebuiltChange rc;
    Change& c = rc.change;
    // c.actors stays empty: the ops index doc.actors (see RebuiltChange).
    c.author = dc.actor;
    c.seq = dc.seq;
    c.time = dc.time;
    c.message = dc.message;
    c.extra = dc.extra;
    c.start_op = s.empty() ? dc.max_op + 1 : min_ctr[i];
    if (!s.empty() && c.start_op <= prev_max[dc.actor]) return malformed("change ops overlap");
    if (c.start_op == 0) return malformed("change startOp is zero");
    prev_max[dc.actor] = dc.max_op;
    c.ops.reserve(s.size());
    for (auto& slot : s) {
      ChangeOp op;
      if (slot.stored) {
        const DocOp& d = *slot.stored;
        op.obj = d.obj;
        op.key_is_str = d.key_is_str;
        op.key_str = d.key_str;
        op.key_elem = d.key_elem;
        op.insert = d.insert;
        op.action = d.action;
        op.value = d.value;
        op.pred = std::move(preds[static_cast<std::size_t>(&d - doc.ops.data())]);
        op.expand = d.expand;
        op.mark_name = d.mark_name;
      } else if (slot.target) {
        const DocOp& t = *slot.target;
        op.obj = t.obj;
        op.key_is_str = t.key_is_str;
        op.key_str = t.key_str;
        op.key_elem = key_of(t);
        op.action = kActDel;
        op.pred = std::move(slot.pred);
      } else {
        return malformed("change op counters are not contiguous");
      }
      if (op.pred.size() > 1) std::sort(op.pred.begin(), op.pred.end(), lamport_less);
      c.ops.push_back(std::move(op));
    }
    std::vector<Slot>().swap(s);
    // Deps: ordered by hash.
    for (auto d : dc.deps) {
      if (d >= i) return malformed("document change depends on a later change row");
      c.deps.push_back(hashes[d]);
    }
    std::sort(c.deps.begin(), c.deps.end());
    Bytes body = encode_change_body(c, doc.actors, c.author);
    rc.hash = chunk::chunk_hash(chunk::ChunkType::kChange, body);
    rc.chunk = chunk::frame_chunk(chunk::ChunkType::kChange, rc.hash, body);
    hashes[i] = rc.hash;
    if (i + 1 == nc) {
      // The last change: check the heads before handing it over, and free the op table
      // first (for a one-change document this change holds every op again).
      PEAT_TRY_STATUS(check_heads(doc, hashes));
      std::vector<DocOp>().swap(doc.ops);
      std::vector<std::vector<OpRef>>().swap(preds);
      std::vector<std::vector<Slot>>().swap(slots);
      std::vector<std::vector<std::uint32_t>>().swap(dense_index);
      sparse_index = {};
    }
    PEAT_TRY_STATUS(sink(rc));
  }
  if (nc == 0) PEAT_TRY_STATUS(check_heads(doc, hashes));
  return {};
}

}  // namespace peat::doc
