#include "doc/op_set.hpp"

#include <algorithm>

#include "doc/encoding.hpp"

namespace peat::doc {

namespace {
constexpr std::size_t kChunkMax = 256;

Error invalid_op(std::string message) {
  return make_error("INVALID_OP", std::move(message));
}

bool is_make(std::uint8_t a) {
  return a == kActMakeMap || a == kActMakeList || a == kActMakeText || a == kActMakeTable;
}
}  // namespace

// ---- Fenwick --------------------------------------------------------------------------------

void Fenwick::build(const std::vector<std::int64_t>& values) {
  t_.assign(values.size(), 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    t_[i] += values[i];
    std::size_t j = i | (i + 1);
    if (j < t_.size()) t_[j] += t_[i];
  }
}

void Fenwick::add(std::size_t i, std::int64_t delta) {
  for (; i < t_.size(); i |= i + 1) t_[i] += delta;
}

std::int64_t Fenwick::prefix(std::size_t n) const {
  std::int64_t s = 0;
  for (std::size_t i = n; i > 0; i &= i - 1) s += t_[i - 1];
  return s;
}

std::size_t Fenwick::find(std::int64_t k) const {
  std::size_t pos = 0;
  std::size_t step = 1;
  while (step * 2 <= t_.size()) step *= 2;
  for (; step > 0; step >>= 1) {
    std::size_t next = pos + step;
    if (next <= t_.size() && t_[next - 1] <= k) {
      pos = next;
      k -= t_[next - 1];
    }
  }
  return pos;
}

// ---- OpSet ----------------------------------------------------------------------------------

OpSet::OpSet() {
  Object root;
  root.type = ObjType::kMap;
  objects_.push_back(std::move(root));
  obj_idx_.emplace(ObjKey{0, 0}, 0);
}

std::uint32_t OpSet::actor_index(const ActorId& a) {
  auto it = actor_idx_.find(a);
  if (it != actor_idx_.end()) return it->second;
  auto idx = static_cast<std::uint32_t>(actors_.size());
  actors_.push_back(a);
  actor_idx_.emplace(a, idx);
  ranges_.emplace_back();
  return idx;
}

std::optional<std::uint32_t> OpSet::find_actor(const ActorId& a) const {
  auto it = actor_idx_.find(a);
  if (it == actor_idx_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t OpSet::intern_key(const std::string& s) {
  auto it = key_idx_.find(s);
  if (it != key_idx_.end()) return it->second;
  auto idx = static_cast<std::uint32_t>(keys_.size());
  keys_.push_back(s);
  key_idx_.emplace(s, idx);
  return idx;
}

bool OpSet::lamport_less(std::uint32_t a, std::uint32_t b) const {
  const IOp& x = ops_[a];
  const IOp& y = ops_[b];
  if (x.ctr != y.ctr) return x.ctr < y.ctr;
  return actors_[x.actor] < actors_[y.actor];
}

bool OpSet::id_greater(std::uint32_t a, std::uint64_t ctr, std::uint32_t actor) const {
  const IOp& x = ops_[a];
  if (x.ctr != ctr) return x.ctr > ctr;
  return actors_[actor] < actors_[x.actor];
}

void OpSet::begin_range(std::uint32_t actor, std::uint64_t start) {
  ranges_[actor].push_back(Range{start, start, static_cast<std::uint32_t>(ops_.size())});
}

std::optional<std::uint32_t> OpSet::find_object(std::uint64_t ctr, std::uint32_t actor) const {
  auto it = obj_idx_.find(ObjKey{ctr, ctr == 0 ? 0 : actor});
  if (it == obj_idx_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint32_t> OpSet::find_op(std::uint64_t ctr, std::uint32_t actor) const {
  if (actor >= ranges_.size()) return std::nullopt;
  const auto& rs = ranges_[actor];
  auto it = std::upper_bound(rs.begin(), rs.end(), ctr,
                             [](std::uint64_t c, const Range& r) { return c < r.start; });
  if (it == rs.begin()) return std::nullopt;
  --it;
  if (ctr >= it->end) return std::nullopt;
  return static_cast<std::uint32_t>(it->first + (ctr - it->start));
}

bool OpSet::op_visible(std::uint32_t i) const {
  const IOp& o = ops_[i];
  return (o.action == kActSet || is_make(o.action)) && o.non_inc_succ == 0;
}

void OpSet::add_sorted(std::vector<std::uint32_t>& v, std::uint32_t op) {
  if (v.empty() || lamport_less(v.back(), op)) {
    v.push_back(op);
    return;
  }
  auto it = std::upper_bound(v.begin(), v.end(), op,
                             [&](std::uint32_t a, std::uint32_t b) { return lamport_less(a, b); });
  v.insert(it, op);
}

Status OpSet::apply_op(const ChangeOp& op, std::uint64_t ctr, std::uint32_t actor) {
  // ---- validate (no mutation) ----
  auto obj = find_object(op.obj.ctr, op.obj.actor);
  if (!obj) return invalid_op("op targets an unknown object");
  const Object& o = objects_[*obj];
  bool is_seq = o.type == ObjType::kList || o.type == ObjType::kText;
  if (op.action > kActMark) return invalid_op("unknown action");
  if (op.insert && (op.action == kActDel || op.action == kActInc)) {
    return invalid_op("insert op with a delete/increment action");
  }
  if (op.action == kActMark && !op.insert) return invalid_op("mark op without insert");
  std::uint32_t key = kNone;
  std::uint32_t elem = kNone;
  if (is_seq) {
    if (op.key_is_str) return invalid_op("map key used in a sequence");
    if (op.key_elem.ctr != 0) {
      auto ref = find_op(op.key_elem.ctr, op.key_elem.actor);
      if (!ref || !ops_[*ref].insert || ops_[*ref].obj != *obj) {
        return invalid_op("op references an unknown list element");
      }
      key = *ref;
    } else if (!op.insert) {
      return invalid_op("non-insert op on the list head");
    }
    elem = key;
  } else {
    if (!op.key_is_str || op.insert) return invalid_op("element key used in a map");
  }
  std::vector<std::uint32_t> preds;
  preds.reserve(op.pred.size());
  auto new_index = static_cast<std::uint32_t>(ops_.size());
  for (const auto& p : op.pred) {
    auto pi = find_op(p.ctr, p.actor);
    if (!pi || *pi >= new_index) return invalid_op("op has an unknown predecessor");
    const IOp& po = ops_[*pi];
    if (po.obj != *obj) return invalid_op("predecessor in a different object");
    if (is_seq) {
      if (op.insert || elem_of(*pi) != elem) return invalid_op("predecessor on another element");
    } else if (po.key == kNone || keys_[po.key] != op.key_str) {
      return invalid_op("predecessor under another key");
    }
    preds.push_back(*pi);
  }
  if (ctr <= max_op_ && find_op(ctr, actor)) return invalid_op("duplicate op id");

  // ---- apply ----
  IOp n;
  n.ctr = ctr;
  n.actor = actor;
  n.obj = *obj;
  n.action = op.action;
  n.insert = op.insert;
  n.expand = op.expand;
  n.value = op.value;
  if (op.mark_name) n.mark_name = intern_key(*op.mark_name);
  if (!is_seq) n.key = intern_key(op.key_str);
  if (is_seq) n.key = key;
  ops_.push_back(std::move(n));
  ranges_[actor].back().end = ctr + 1;
  if (ctr > max_op_) max_op_ = ctr;

  if (is_make(op.action)) {
    Object child;
    child.ctr = ctr;
    child.actor = actor;
    child.type = op.action == kActMakeMap    ? ObjType::kMap
                 : op.action == kActMakeList ? ObjType::kList
                 : op.action == kActMakeText ? ObjType::kText
                                             : ObjType::kTable;
    if (child.type == ObjType::kList || child.type == ObjType::kText) {
      child.seq = std::make_unique<Sequence>();
      child.seq->chunks.push_back(std::make_unique<SeqChunk>());
      rebuild_fenwick(*child.seq);
    }
    obj_idx_.emplace(ObjKey{ctr, actor}, static_cast<std::uint32_t>(objects_.size()));
    objects_.push_back(std::move(child));
  }
  Object& target = objects_[*obj];
  if (op.insert) {
    seq_insert(*target.seq, key, new_index);
    elem = new_index;
  } else if (op.action != kActDel) {
    if (is_seq) {
      add_sorted(elem_updates_[elem], new_index);
    } else {
      add_sorted(target.map[op.key_str], new_index);
    }
  }
  for (auto p : preds) {
    IOp& po = ops_[p];
    if (po.succ0 == kNone) {
      po.succ0 = new_index;
    } else {
      if (po.succ_more == kNone) {
        po.succ_more = static_cast<std::uint32_t>(extra_succ_.size());
        extra_succ_.emplace_back();
      }
      extra_succ_[po.succ_more].push_back(new_index);
    }
    if (op.action == kActInc && po.action == kActSet && std::holds_alternative<Counter>(po.value)) {
      const auto& v = op.value;
      std::int64_t d = std::holds_alternative<std::int64_t>(v)
                           ? std::get<std::int64_t>(v)
                           : static_cast<std::int64_t>(std::get<std::uint64_t>(v));
      auto& total = inc_totals_[p];
      total = static_cast<std::int64_t>(static_cast<std::uint64_t>(total) +
                                        static_cast<std::uint64_t>(d));
    } else {
      ++po.non_inc_succ;
    }
  }
  if (is_seq) refresh_elem(elem);
  return {};
}

void OpSet::refresh_elem(std::uint32_t elem) {
  IOp& e = ops_[elem];
  const Object& o = objects_[e.obj];
  std::uint32_t winner = elem_winner(elem);
  bool vis = winner != kNone;
  std::uint32_t width = 0;
  if (vis) {
    width = 1;
    if (o.type == ObjType::kText) {
      const IOp& w = ops_[winner];
      if (w.action == kActSet && std::holds_alternative<std::string>(w.value)) {
        width = static_cast<std::uint32_t>(enc::utf16_len(std::get<std::string>(w.value)));
      }
    }
  }
  std::int64_t dc = static_cast<std::int64_t>(vis) - static_cast<std::int64_t>(e.visible_elem);
  std::int64_t dw = static_cast<std::int64_t>(width) - static_cast<std::int64_t>(e.width);
  if (dc == 0 && dw == 0) return;
  e.visible_elem = vis;
  e.width = width;
  SeqChunk* c = e.chunk;
  c->count += dc;
  c->width += dw;
  Sequence& s = *objects_[e.obj].seq;
  if (dc) s.fc.add(c->pos, dc);
  if (dw) s.fw.add(c->pos, dw);
}

void OpSet::rebuild_fenwick(Sequence& s) {
  std::vector<std::int64_t> counts, widths;
  counts.reserve(s.chunks.size());
  widths.reserve(s.chunks.size());
  for (const auto& c : s.chunks) {
    counts.push_back(c->count);
    widths.push_back(c->width);
  }
  s.fc.build(counts);
  s.fw.build(widths);
}

void OpSet::split_chunk(Sequence& s, SeqChunk* c) {
  auto fresh = std::make_unique<SeqChunk>();
  std::size_t half = c->elems.size() / 2;
  fresh->elems.assign(c->elems.begin() + static_cast<std::ptrdiff_t>(half), c->elems.end());
  c->elems.resize(half);
  for (auto e : fresh->elems) {
    IOp& x = ops_[e];
    x.chunk = fresh.get();
    fresh->count += x.visible_elem ? 1 : 0;
    fresh->width += x.width;
  }
  c->count -= fresh->count;
  c->width -= fresh->width;
  s.chunks.insert(s.chunks.begin() + c->pos + 1, std::move(fresh));
  for (std::size_t i = c->pos + 1; i < s.chunks.size(); ++i) {
    s.chunks[i]->pos = static_cast<std::uint32_t>(i);
  }
  rebuild_fenwick(s);
}

void OpSet::seq_insert(Sequence& s, std::uint32_t ref, std::uint32_t e) {
  SeqChunk* c;
  std::size_t i;
  if (ref == kNone) {
    c = s.chunks.front().get();
    i = 0;
  } else {
    c = ops_[ref].chunk;
    auto it = std::find(c->elems.begin(), c->elems.end(), ref);
    i = static_cast<std::size_t>(it - c->elems.begin()) + 1;
  }
  const IOp& x = ops_[e];
  // RGA: skip following elements with a greater id.
  while (true) {
    if (i == c->elems.size()) {
      if (c->pos + 1 >= s.chunks.size()) break;
      SeqChunk* next = s.chunks[c->pos + 1].get();
      if (next->elems.empty() || !id_greater(next->elems.front(), x.ctr, x.actor)) break;
      c = next;
      i = 0;
    }
    if (!id_greater(c->elems[i], x.ctr, x.actor)) break;
    ++i;
  }
  c->elems.insert(c->elems.begin() + static_cast<std::ptrdiff_t>(i), e);
  ops_[e].chunk = c;
  if (c->elems.size() > kChunkMax) split_chunk(s, c);
}

std::vector<std::uint32_t> OpSet::visible_at_key(std::uint32_t obj, const std::string& key) const {
  std::vector<std::uint32_t> out;
  const Object& o = objects_[obj];
  auto it = o.map.find(key);
  if (it == o.map.end()) return out;
  for (auto i : it->second) {
    if (op_visible(i)) out.push_back(i);
  }
  return out;
}

std::vector<std::uint32_t> OpSet::visible_of_elem(std::uint32_t elem) const {
  std::vector<std::uint32_t> out;
  if (op_visible(elem)) out.push_back(elem);
  auto it = elem_updates_.find(elem);
  if (it != elem_updates_.end()) {
    for (auto u : it->second) {
      if (op_visible(u)) out.push_back(u);
    }
  }
  std::sort(out.begin(), out.end(),
            [&](std::uint32_t a, std::uint32_t b) { return lamport_less(a, b); });
  return out;
}

std::optional<std::pair<std::uint32_t, std::int64_t>> OpSet::nth_visible(std::uint32_t obj,
                                                                         std::int64_t i,
                                                                         bool by_width) const {
  const Sequence& s = *objects_[obj].seq;
  const Fenwick& f = by_width ? s.fw : s.fc;
  if (i < 0) return std::nullopt;
  std::size_t p = f.find(i);
  if (p >= s.chunks.size()) return std::nullopt;
  std::int64_t rem = i - f.prefix(p);
  for (auto e : s.chunks[p]->elems) {
    const IOp& x = ops_[e];
    std::int64_t w = by_width ? x.width : (x.visible_elem ? 1 : 0);
    if (rem < w) return std::make_pair(e, rem);
    rem -= w;
  }
  return std::nullopt;
}

std::int64_t OpSet::seq_length(std::uint32_t obj, bool by_width) const {
  const Sequence& s = *objects_[obj].seq;
  return (by_width ? s.fw : s.fc).prefix(s.chunks.size());
}

std::uint32_t OpSet::elem_winner(std::uint32_t elem) const {
  std::uint32_t winner = op_visible(elem) ? elem : kNone;
  if (elem_updates_.empty()) return winner;
  auto it = elem_updates_.find(elem);
  if (it != elem_updates_.end()) {
    for (auto u : it->second) {
      if (op_visible(u) && (winner == kNone || lamport_less(winner, u))) winner = u;
    }
  }
  return winner;
}

std::vector<std::uint32_t> OpSet::visible_elems(std::uint32_t obj) const {
  std::vector<std::uint32_t> out;
  for (const auto& c : objects_[obj].seq->chunks) {
    for (auto e : c->elems) {
      if (ops_[e].visible_elem) out.push_back(e);
    }
  }
  return out;
}

void OpSet::view_for_change(std::uint32_t i, OpView& v) const {
  const IOp& x = ops_[i];
  const Object& o = objects_[x.obj];
  v.obj = x.obj == 0 ? OpRef{} : OpRef{o.ctr, o.actor};
  if (!o.seq) {
    v.key_is_str = true;
    v.key_str = keys_[x.key];
  } else {
    v.key_elem = x.key == kNone ? OpRef{} : op_ref(x.key);
  }
  v.id = op_ref(i);
  v.insert = x.insert;
  v.action = x.action;
  v.value = &x.value;
  v.expand = x.expand;
  v.mark_name = x.mark_name == kNone ? nullptr : &keys_[x.mark_name];
}

col::ColumnSet OpSet::encode_doc_ops(const std::vector<std::uint32_t>& remap) const {
  col::OpColumns cols(true);
  std::vector<OpRef> succ;
  auto ref = [&](std::uint32_t i) { return OpRef{ops_[i].ctr, remap[ops_[i].actor]}; };
  auto emit = [&](std::uint32_t i) {
    OpView v;
    view_for_change(i, v);
    if (v.obj.ctr) v.obj.actor = remap[v.obj.actor];
    if (!v.key_is_str && v.key_elem.ctr) v.key_elem.actor = remap[v.key_elem.actor];
    v.id.actor = remap[v.id.actor];
    succ.clear();
    const IOp& x = ops_[i];
    if (x.succ0 != kNone) succ.push_back(ref(x.succ0));
    if (x.succ_more != kNone) {
      for (auto s : extra_succ_[x.succ_more]) succ.push_back(ref(s));
    }
    if (succ.size() > 1) {
      std::sort(succ.begin(), succ.end(), [](const OpRef& a, const OpRef& b) {
        return a.ctr != b.ctr ? a.ctr < b.ctr : a.actor < b.actor;
      });
    }
    v.refs = succ;
    cols.add(v);
  };
  std::vector<std::uint32_t> order(objects_.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin() + 1, order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Object& x = objects_[a];
    const Object& y = objects_[b];
    if (x.ctr != y.ctr) return x.ctr < y.ctr;
    return actors_[x.actor] < actors_[y.actor];
  });
  for (auto oi : order) {
    const Object& o = objects_[oi];
    if (o.seq) {
      for (const auto& c : o.seq->chunks) {
        const auto& elems = c->elems;
        for (std::size_t k = 0; k < elems.size(); ++k) {
          // Elements are visited in RGA order, not storage order: fetch ahead.
          if (k + 8 < elems.size()) __builtin_prefetch(&ops_[elems[k + 8]]);
          if (k + 4 < elems.size()) {
            std::uint32_t s0 = ops_[elems[k + 4]].succ0;
            if (s0 != kNone) __builtin_prefetch(&ops_[s0]);
          }
          std::uint32_t e = elems[k];
          emit(e);
          if (!elem_updates_.empty()) {
            auto it = elem_updates_.find(e);
            if (it != elem_updates_.end()) {
              for (auto u : it->second) emit(u);
            }
          }
        }
      }
    } else {
      for (const auto& [k, v] : o.map) {
        for (auto i : v) emit(i);
      }
    }
  }
  return cols.finish();
}

}  // namespace peat::doc
