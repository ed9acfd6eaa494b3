#include "doc/change.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "doc/chunk.hpp"

namespace peat::doc {

namespace {
using enc::malformed;

// Change op column specs (id << 4 | type).
constexpr std::uint32_t kObjActor = 1, kObjCtr = 2, kKeyActor = 17, kKeyCtr = 19, kKeyStr = 21,
                        kInsert = 52, kAction = 66, kValMeta = 86, kValRaw = 87, kPredGroup = 112,
                        kPredActor = 113, kPredCtr = 115, kExpand = 148, kMarkName = 165;

bool actor_less(const ActorId& a, const ActorId& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}
}  // namespace

namespace col {

void ColumnSet::write(Bytes& meta_out, Bytes& data_out, bool compress) const {
  std::vector<std::pair<std::uint32_t, Bytes>> out;
  for (const auto& [spec, data] : cols) {
    if (data.empty()) continue;
    if (compress && data.size() >= 256) {
      out.emplace_back(spec | 8u, chunk::deflate_raw(data));
    } else {
      out.emplace_back(spec, data);
    }
  }
  enc::put_uleb(meta_out, out.size());
  for (const auto& [spec, data] : out) {
    enc::put_uleb(meta_out, spec);
    enc::put_uleb(meta_out, data.size());
  }
  for (const auto& c : out) data_out.insert(data_out.end(), c.second.begin(), c.second.end());
}

Result<std::vector<ColumnMeta>> read_column_meta(enc::Reader& r, bool allow_deflate) {
  auto n = r.uleb();
  if (!n) return n.error();
  if (*n > 1024) return malformed("too many columns");
  std::vector<ColumnMeta> out;
  std::int64_t last = -1;
  for (std::uint64_t i = 0; i < *n; ++i) {
    auto spec = r.uleb();
    if (!spec) return spec.error();
    auto len = r.uleb();
    if (!len) return len.error();
    if (*spec > 0xffffffffu) return make_error("INVALID_COLUMN", "column spec too large");
    auto s = static_cast<std::uint32_t>(*spec);
    if ((s & 8u) && !allow_deflate) {
      return make_error("INVALID_COLUMN", "deflated column in a change chunk");
    }
    std::int64_t key = s & ~8u;
    if (key <= last) return make_error("INVALID_COLUMN", "columns out of order or duplicated");
    last = key;
    out.push_back({s, *len});
  }
  return out;
}

Result<ParsedColumns> read_column_data(enc::Reader& r, const std::vector<ColumnMeta>& meta,
                                       const std::vector<std::uint32_t>& known) {
  ParsedColumns pc;
  for (const auto& m : meta) {
    auto data = r.take(m.len);
    if (!data) return make_error("TRUNCATED", "column data is truncated");
    std::uint32_t key = m.spec & ~8u;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return make_error("INVALID_COLUMN", "unknown column spec " + std::to_string(m.spec));
    }
    if (m.spec & 8u) {
      auto inflated = chunk::inflate_raw(*data, std::size_t{1} << 28);
      if (!inflated) return inflated.error();
      pc.cols.emplace(key, std::move(*inflated));
    } else {
      pc.cols.emplace(key, Bytes(data->begin(), data->end()));
    }
  }
  return pc;
}

void encode_value(const ScalarValue& v, enc::RleEncoder<std::uint64_t>& meta, Bytes& raw) {
  std::size_t before = raw.size();
  std::uint64_t type = 0;
  switch (v.index()) {
    case 0:
      type = 0;
      break;
    case 1:
      type = std::get<bool>(v) ? 2 : 1;
      break;
    case 2:
      type = 4;
      enc::put_sleb(raw, std::get<std::int64_t>(v));
      break;
    case 3:
      type = 3;
      enc::put_uleb(raw, std::get<std::uint64_t>(v));
      break;
    case 4: {
      type = 5;
      double d = std::get<double>(v);
      std::uint64_t bits;
      std::memcpy(&bits, &d, 8);
      for (int i = 0; i < 8; ++i) raw.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
      break;
    }
    case 5: {
      type = 6;
      const auto& s = std::get<std::string>(v);
      raw.insert(raw.end(), s.begin(), s.end());
      break;
    }
    case 6: {
      type = 7;
      const auto& b = std::get<Bytes>(v);
      raw.insert(raw.end(), b.begin(), b.end());
      break;
    }
    case 7:
      type = 8;
      enc::put_sleb(raw, std::get<Counter>(v).value);
      break;
    case 8:
      type = 9;
      enc::put_sleb(raw, std::get<Timestamp>(v).millis);
      break;
    default: {
      const auto& u = std::get<UnknownValue>(v);
      type = u.type_code;
      raw.insert(raw.end(), u.bytes.begin(), u.bytes.end());
      break;
    }
  }
  meta.append((static_cast<std::uint64_t>(raw.size() - before) << 4) | type);
}

Result<ScalarValue> decode_value(std::uint64_t meta, enc::Reader& raw) {
  std::uint64_t len = meta >> 4;
  auto type = static_cast<std::uint8_t>(meta & 15);
  auto bytes = raw.take(len);
  if (!bytes) return malformed("value bytes exceed the raw value column");
  enc::Reader vr(*bytes);
  auto whole_leb = [&](bool sign) -> Result<std::int64_t> {
    if (sign) {
      auto x = vr.sleb();
      if (!x) return x.error();
      if (!vr.done()) return malformed("value length does not match its LEB128");
      return *x;
    }
    auto x = vr.uleb();
    if (!x) return x.error();
    if (!vr.done()) return malformed("value length does not match its LEB128");
    return static_cast<std::int64_t>(*x);
  };
  switch (type) {
    case 0:
    case 1:
    case 2:
      if (len != 0) return malformed("null/bool value with a length");
      if (type == 0) return ScalarValue{Null{}};
      return ScalarValue{type == 2};
    case 3: {
      auto x = whole_leb(false);
      if (!x) return x.error();
      return ScalarValue{static_cast<std::uint64_t>(*x)};
    }
    case 4: {
      auto x = whole_leb(true);
      if (!x) return x.error();
      return ScalarValue{*x};
    }
    case 5: {
      if (len != 8) return malformed("float value must be 8 bytes");
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>((*bytes)[i]) << (8 * i);
      double d;
      std::memcpy(&d, &bits, 8);
      return ScalarValue{d};
    }
    case 6: {
      std::string s(as_chars(*bytes));
      if (!enc::valid_utf8(s)) return make_error("INVALID_UTF8", "string value is not UTF-8");
      return ScalarValue{std::move(s)};
    }
    case 7:
      return ScalarValue{Bytes(bytes->begin(), bytes->end())};
    case 8: {
      auto x = whole_leb(true);
      if (!x) return x.error();
      return ScalarValue{Counter{*x}};
    }
    case 9: {
      auto x = whole_leb(true);
      if (!x) return x.error();
      return ScalarValue{Timestamp{*x}};
    }
    default:
      return ScalarValue{UnknownValue{type, Bytes(bytes->begin(), bytes->end())}};
  }
}

}  // namespace col

namespace col {

void OpColumns::add(const OpView& op) {
  ++rows_;
  if (op.obj.ctr == 0) {
    obj_actor_.append_null();
    obj_ctr_.append_null();
  } else {
    obj_actor_.append(op.obj.actor);
    obj_ctr_.append(op.obj.ctr);
  }
  if (op.key_is_str) {
    key_actor_.append_null();
    key_ctr_.append_null();
    key_str_.append(std::string(op.key_str));
  } else {
    if (op.key_elem.ctr == 0) {
      key_actor_.append_null();
    } else {
      key_actor_.append(op.key_elem.actor);
    }
    key_ctr_.append(static_cast<std::int64_t>(op.key_elem.ctr));
    key_str_.append_null();
  }
  if (document_) {
    id_actor_.append(op.id.actor);
    id_ctr_.append(static_cast<std::int64_t>(op.id.ctr));
  }
  insert_.append(op.insert);
  action_.append(op.action);
  static const ScalarValue kNull = Null{};
  encode_value(op.value ? *op.value : kNull, meta_, raw_);
  ref_group_.append(op.refs.size());
  for (const auto& r : op.refs) {
    ref_actor_.append(r.actor);
    ref_ctr_.append(static_cast<std::int64_t>(r.ctr));
  }
  expand_.append(op.expand);
  any_expand_ |= op.expand;
  if (op.mark_name) {
    mark_name_.append(*op.mark_name);
  } else {
    mark_name_.append_null();
  }
}

ColumnSet OpColumns::finish() {
  ColumnSet cs;
  if (rows_ == 0) return cs;
  cs.add(kObjActor, obj_actor_.finish());
  cs.add(kObjCtr, obj_ctr_.finish());
  cs.add(kKeyActor, key_actor_.finish());
  cs.add(kKeyCtr, key_ctr_.finish());
  cs.add(kKeyStr, key_str_.finish());
  if (document_) {
    cs.add(33, id_actor_.finish());
    cs.add(35, id_ctr_.finish());
  }
  cs.add(kInsert, insert_.finish());
  cs.add(kAction, action_.finish());
  cs.add(kValMeta, meta_.finish());
  cs.add(kValRaw, std::move(raw_));
  cs.add(document_ ? 128 : kPredGroup, ref_group_.finish());
  cs.add(document_ ? 129 : kPredActor, ref_actor_.finish());
  cs.add(document_ ? 131 : kPredCtr, ref_ctr_.finish());
  if (any_expand_) cs.add(kExpand, expand_.finish());
  cs.add(kMarkName, mark_name_.finish());
  return cs;
}

}  // namespace col

Bytes encode_change_body(const Change& change, std::size_t n, const OpSource& source,
                         const std::vector<ActorId>& table, std::uint32_t author) {
  // Pass 1: the other actors referenced, sorted by bytes; author is 0.
  std::vector<std::uint32_t> others;
  OpView view;
  std::vector<OpRef> scratch;
  auto note = [&](const OpRef& r) {
    if (r.ctr != 0 && r.actor != author) others.push_back(r.actor);
  };
  for (std::size_t i = 0; i < n; ++i) {
    view = OpView{};
    source(i, view, scratch);
    note(view.obj);
    if (!view.key_is_str) note(view.key_elem);
    for (const auto& p : view.refs) note(p);
  }
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  std::sort(others.begin(), others.end(),
            [&](std::uint32_t a, std::uint32_t b) { return actor_less(table[a], table[b]); });
  std::vector<std::uint32_t> remap(table.size(), 0);
  for (std::size_t i = 0; i < others.size(); ++i) {
    remap[others[i]] = static_cast<std::uint32_t>(i + 1);
  }
  remap[author] = 0;

  Bytes body;
  std::vector<ChangeHash> deps = change.deps;
  std::sort(deps.begin(), deps.end());
  enc::put_uleb(body, deps.size());
  for (const auto& d : deps) body.insert(body.end(), d.begin(), d.end());
  const ActorId& me = table[author];
  enc::put_uleb(body, me.size());
  body.insert(body.end(), me.begin(), me.end());
  enc::put_uleb(body, change.seq);
  enc::put_uleb(body, change.start_op);
  enc::put_sleb(body, change.time);
  if (change.message) {
    enc::put_uleb(body, change.message->size());
    body.insert(body.end(), change.message->begin(), change.message->end());
  } else {
    enc::put_uleb(body, 0);
  }
  enc::put_uleb(body, others.size());
  for (auto idx : others) {
    enc::put_uleb(body, table[idx].size());
    body.insert(body.end(), table[idx].begin(), table[idx].end());
  }

  // Pass 2: the columns, with preds in Lamport order.
  col::OpColumns cols(false);
  std::vector<OpRef> preds;
  for (std::size_t i = 0; i < n; ++i) {
    view = OpView{};
    source(i, view, scratch);
    preds.assign(view.refs.begin(), view.refs.end());
    std::sort(preds.begin(), preds.end(), [&](const OpRef& a, const OpRef& b) {
      if (a.ctr != b.ctr) return a.ctr < b.ctr;
      return actor_less(table[a.actor], table[b.actor]);
    });
    for (auto& p : preds) p.actor = remap[p.actor];
    if (view.obj.ctr) view.obj.actor = remap[view.obj.actor];
    if (!view.key_is_str && view.key_elem.ctr) view.key_elem.actor = remap[view.key_elem.actor];
    view.refs = preds;
    cols.add(view);
  }
  Bytes meta_bytes, data_bytes;
  cols.finish().write(meta_bytes, data_bytes, false);
  body.insert(body.end(), meta_bytes.begin(), meta_bytes.end());
  body.insert(body.end(), data_bytes.begin(), data_bytes.end());
  body.insert(body.end(), change.extra.begin(), change.extra.end());
  return body;
}

Bytes encode_change_body(const Change& change, const std::vector<ActorId>& table,
                         std::uint32_t author) {
  return encode_change_body(
      change, change.ops.size(),
      [&](std::size_t i, OpView& v, std::vector<OpRef>&) {
        const ChangeOp& op = change.ops[i];
        v.obj = op.obj;
        v.key_is_str = op.key_is_str;
        v.key_str = op.key_str;
        v.key_elem = op.key_elem;
        v.insert = op.insert;
        v.action = op.action;
        v.value = &op.value;
        v.refs = op.pred;
        v.expand = op.expand;
        v.mark_name = op.mark_name ? &*op.mark_name : nullptr;
      },
      table, author);
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

Result<Change> decode_change_body(ByteView body) {
  enc::Reader r(body);
  Change c;
  auto ndeps = r.uleb();
  if (!ndeps) return ndeps.error();
  if (*ndeps > r.remaining() / 32) return malformed("too many deps");
  for (std::uint64_t i = 0; i < *ndeps; ++i) {
    auto h = r.take(32);
    if (!h) return h.error();
    ChangeHash hash;
    std::memcpy(hash.data(), h->data(), 32);
    c.deps.push_back(hash);
  }
  auto read_actor = [&]() -> Result<ActorId> {
    auto len = r.uleb();
    if (!len) return len.error();
    auto b = r.take(*len);
    if (!b) return b.error();
    return ActorId(b->begin(), b->end());
  };
  auto author = read_actor();
  if (!author) return author.error();
  c.actors.push_back(std::move(*author));
  auto seq = r.uleb();
  if (!seq) return seq.error();
  auto start = r.uleb();
  if (!start) return start.error();
  if (*start == 0) return malformed("change startOp is zero");
  auto time = r.sleb();
  if (!time) return time.error();
  c.seq = *seq;
  c.start_op = *start;
  c.time = *time;
  auto mlen = r.uleb();
  if (!mlen) return mlen.error();
  auto mbytes = r.take(*mlen);
  if (!mbytes) return mbytes.error();
  if (*mlen > 0) {
    std::string m(as_chars(*mbytes));
    if (!enc::valid_utf8(m)) return make_error("INVALID_UTF8", "change message is not UTF-8");
    c.message = std::move(m);
  }
  auto nother = r.uleb();
  if (!nother) return nother.error();
  if (*nother > r.remaining()) return malformed("too many actors");
  for (std::uint64_t i = 0; i < *nother; ++i) {
    auto a = read_actor();
    if (!a) return a.error();
    c.actors.push_back(std::move(*a));
  }
  auto meta = col::read_column_meta(r, false);
  if (!meta) return meta.error();
  auto cols = col::read_column_data(
      r, *meta,
      {kObjActor, kObjCtr, kKeyActor, kKeyCtr, kKeyStr, kInsert, kAction, kValMeta, kValRaw,
       kPredGroup, kPredActor, kPredCtr, kExpand, kMarkName});
  if (!cols) return cols.error();
  auto rest = r.rest();
  c.extra.assign(rest.begin(), rest.end());

  // At most kMaxChangeOps ops per change (a few bytes of runs could otherwise describe
  // billions), and twice that many preds.
  constexpr std::size_t R = kMaxChangeOps, P = 2 * kMaxChangeOps;
  auto obj_actor = enc::decode_uleb_rle(cols->get(kObjActor), R);
  auto obj_ctr = enc::decode_uleb_rle(cols->get(kObjCtr), R);
  auto key_actor = enc::decode_uleb_rle(cols->get(kKeyActor), R);
  auto key_ctr = enc::decode_delta(cols->get(kKeyCtr), R);
  auto key_str = enc::decode_string_rle(cols->get(kKeyStr), R);
  auto insert = enc::decode_bool(cols->get(kInsert), R);
  auto action = enc::decode_uleb_rle(cols->get(kAction), R);
  auto vmeta = enc::decode_uleb_rle(cols->get(kValMeta), R);
  auto pgroup = enc::decode_uleb_rle(cols->get(kPredGroup), R);
  auto pactor = enc::decode_uleb_rle(cols->get(kPredActor), P);
  auto pctr = enc::decode_delta(cols->get(kPredCtr), P);
  auto expand = enc::decode_bool(cols->get(kExpand), R);
  auto mname = enc::decode_string_rle(cols->get(kMarkName), R);
  for (const Error* e :
       {obj_actor ? nullptr : &obj_actor.error(), obj_ctr ? nullptr : &obj_ctr.error(),
        key_actor ? nullptr : &key_actor.error(), key_ctr ? nullptr : &key_ctr.error(),
        key_str ? nullptr : &key_str.error(), insert ? nullptr : &insert.error(),
        action ? nullptr : &action.error(), vmeta ? nullptr : &vmeta.error(),
        pgroup ? nullptr : &pgroup.error(), pactor ? nullptr : &pactor.error(),
        pctr ? nullptr : &pctr.error(), expand ? nullptr : &expand.error(),
        mname ? nullptr : &mname.error()}) {
    if (e) return *e;
  }
  std::size_t n = std::max({obj_actor->size(), obj_ctr->size(), key_actor->size(), key_ctr->size(),
                            key_str->size(), insert->size(), action->size(), vmeta->size(),
                            pgroup->size(), expand->size(), mname->size()});
  PEAT_TRY_STATUS(check_len(*obj_actor, n, "obj actor"));
  PEAT_TRY_STATUS(check_len(*obj_ctr, n, "obj ctr"));
  PEAT_TRY_STATUS(check_len(*key_actor, n, "key actor"));
  PEAT_TRY_STATUS(check_len(*key_ctr, n, "key ctr"));
  PEAT_TRY_STATUS(check_len(*key_str, n, "key str"));
  PEAT_TRY_STATUS(check_len(*insert, n, "insert"));
  PEAT_TRY_STATUS(check_len(*action, n, "action"));
  PEAT_TRY_STATUS(check_len(*vmeta, n, "value meta"));
  PEAT_TRY_STATUS(check_len(*pgroup, n, "pred group"));
  PEAT_TRY_STATUS(check_len(*expand, n, "expand"));
  PEAT_TRY_STATUS(check_len(*mname, n, "mark name"));
  if (n > 0 && action->empty()) return malformed("change has ops but no action column");
  if (pactor->size() != pctr->size()) return malformed("pred columns differ in length");

  auto nactors = c.actors.size();
  auto get_ref = [&](const std::optional<std::uint64_t>& a,
                     const std::optional<std::uint64_t>& ctr) -> Result<OpRef> {
    if (!a || !ctr || *a >= nactors || *ctr == 0) return malformed("invalid op id");
    return OpRef{*ctr, static_cast<std::uint32_t>(*a)};
  };
  enc::Reader raw(cols->get(kValRaw));
  std::size_t pidx = 0;
  c.ops.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    ChangeOp op;
    std::optional<std::uint64_t> oa = obj_actor->empty() ? std::nullopt : (*obj_actor)[i];
    std::optional<std::uint64_t> oc = obj_ctr->empty() ? std::nullopt : (*obj_ctr)[i];
    if (oa || oc) {
      auto ref = get_ref(oa, oc);
      if (!ref) return ref.error();
      op.obj = *ref;
    }
    bool has_ka = !key_actor->empty() && (*key_actor)[i].has_value();
    std::uint64_t ka = has_ka ? *(*key_actor)[i] : 0;
    bool has_kc = !key_ctr->empty() && (*key_ctr)[i].has_value();
    std::int64_t kc = has_kc ? *(*key_ctr)[i] : 0;
    bool has_ks = !key_str->empty() && (*key_str)[i].has_value();
    if (has_ks) {
      if (has_ka || has_kc) return malformed("op has both a string key and an element key");
      op.key_is_str = true;
      op.key_str = std::move(*(*key_str)[i]);
    } else if (!has_ka && has_kc && kc == 0) {
      op.key_elem = OpRef{};
    } else if (has_ka && has_kc && kc > 0) {
      auto ref = get_ref(ka, static_cast<std::uint64_t>(kc));
      if (!ref) return ref.error();
      op.key_elem = *ref;
    } else {
      return malformed("op has an invalid key");
    }
    op.insert = insert->empty() ? false : static_cast<bool>((*insert)[i]);
    if (!(*action)[i] || *(*action)[i] > 7) {
      return make_error("INVALID_ACTION", "unknown or missing op action");
    }
    op.action = static_cast<std::uint8_t>(*(*action)[i]);
    std::uint64_t m = vmeta->empty() || !(*vmeta)[i] ? 0 : *(*vmeta)[i];
    auto v = col::decode_value(m, raw);
    if (!v) return v.error();
    op.value = std::move(*v);
    if (op.action == kActInc && !std::holds_alternative<std::int64_t>(op.value) &&
        !std::holds_alternative<std::uint64_t>(op.value)) {
      return malformed("increment with a non-integer value");
    }
    std::uint64_t np = pgroup->empty() || !(*pgroup)[i] ? 0 : *(*pgroup)[i];
    if (np > pactor->size() - pidx) return malformed("pred group exceeds pred columns");
    for (std::uint64_t k = 0; k < np; ++k, ++pidx) {
      auto pc = (*pctr)[pidx];
      if (pc && *pc <= 0) return malformed("invalid pred counter");
      auto ref = get_ref((*pactor)[pidx], pc ? std::optional<std::uint64_t>(*pc) : std::nullopt);
      if (!ref) return ref.error();
      op.pred.push_back(*ref);
    }
    op.expand = expand->empty() ? false : static_cast<bool>((*expand)[i]);
    if (!mname->empty() && (*mname)[i]) {
      op.mark_name = std::make_shared<const std::string>(std::move(*(*mname)[i]));
    }
    if (op.insert && op.key_is_str) return malformed("insert op with a map key");
    c.ops.push_back(std::move(op));
  }
  if (pidx != pactor->size()) return malformed("unused pred entries");
  if (!raw.done()) return malformed("unused raw value bytes");
  if (c.start_op + n < c.start_op) return malformed("op counter overflow");
  return c;
}

}  // namespace peat::doc
