#include "random_edits.hpp"

#include <string>
#include <vector>

namespace peat::interop {
namespace {

using doc::Document;
using doc::ObjId;
using doc::ObjType;

struct Obj {
  ObjId id;
  ObjType type;
};

// Every map, list and text reachable from the root, up to a small depth.
void collect(const Document& d, const ObjId& id, ObjType type, int depth, std::vector<Obj>& out) {
  out.push_back({id, type});
  if (depth >= 4) return;
  auto visit = [&](const std::optional<doc::Value>& v) {
    if (!v) return;
    if (const auto* ref = std::get_if<doc::ObjectRef>(&*v)) {
      collect(d, ref->id, ref->type, depth + 1, out);
    }
  };
  if (type == ObjType::kMap || type == ObjType::kTable) {
    for (const auto& k : d.keys(id)) visit(d.get(id, k));
  } else if (type == ObjType::kList) {
    const std::size_t n = d.length(id);
    for (std::size_t i = 0; i < n; ++i) visit(d.get(id, i));
  }
}

const char* const kWords[] = {"a",  "bc", "déf", "\xF0\x9F\x98\x80", "x\xF0\x9F\x8C\x8Dy",
                              "zz", " "};

doc::ScalarValue random_scalar(Rng& rng) {
  switch (rng.uniform(9)) {
    case 0:
      return static_cast<std::int64_t>(rng.uniform(2000)) - 1000;
    case 1:
      return std::string(kWords[rng.uniform(std::size(kWords))]);
    case 2:
      return static_cast<double>(rng.uniform(1000)) / 8.0;
    case 3:
      return rng.uniform(2) == 1;
    case 4:
      return doc::Null{};
    case 5:
      return doc::Timestamp{1700000000000 + static_cast<std::int64_t>(rng.uniform(1000000))};
    case 6:
      return Bytes{static_cast<std::uint8_t>(rng.uniform(256)), 0, 0xff};
    case 7:
      return static_cast<std::uint64_t>(rng.uniform(100000));
    default:
      return std::string("s") + std::to_string(rng.uniform(100));
  }
}

// UTF-16 offsets of code point boundaries in a UTF-8 string: 0, ..., total units.
std::vector<std::size_t> utf16_boundaries(const std::string& s) {
  std::vector<std::size_t> out{0};
  std::size_t units = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    units += len == 4 ? 2 : 1;
    i += len;
    out.push_back(units);
  }
  return out;
}

std::string key(Rng& rng) {
  return "k" + std::to_string(rng.uniform(8));
}

void edit_map(Document& d, const ObjId& id, Rng& rng) {
  const std::string k = key(rng);
  const auto existing = d.get(id, k);
  switch (rng.uniform(8)) {
    case 0:
      (void)d.put_object(id, k, ObjType::kList);
      return;
    case 1:
      (void)d.put_object(id, k, ObjType::kMap);
      return;
    case 2: {
      auto t = d.put_object(id, k, ObjType::kText);
      if (t) (void)d.splice_text(*t, 0, 0, "hi \xF0\x9F\x91\x8B");
      return;
    }
    case 3:
      if (existing) (void)d.remove(id, k);
      return;
    case 4:
      if (existing) {
        if (const auto* s = std::get_if<doc::ScalarValue>(&*existing)) {
          if (std::holds_alternative<doc::Counter>(*s)) {
            (void)d.increment(id, k, static_cast<std::int64_t>(rng.uniform(20)) - 5);
            return;
          }
        }
      }
      (void)d.put(id, k, doc::Counter{static_cast<std::int64_t>(rng.uniform(10))});
      return;
    default:
      (void)d.put(id, k, random_scalar(rng));
  }
}

void edit_list(Document& d, const ObjId& id, Rng& rng) {
  const std::size_t n = d.length(id);
  const auto r = rng.uniform(10);
  if (r < 2 && n > 0) {
    (void)d.remove(id, static_cast<std::size_t>(rng.uniform(n)));
  } else if (r == 2) {
    (void)d.insert_object(id, static_cast<std::size_t>(rng.uniform(n + 1)),
                          rng.uniform(2) ? ObjType::kMap : ObjType::kList);
  } else if (r == 3 && n > 0) {
    (void)d.put(id, static_cast<std::size_t>(rng.uniform(n)), random_scalar(rng));
  } else {
    (void)d.insert(id, static_cast<std::size_t>(rng.uniform(n + 1)), random_scalar(rng));
  }
}

void edit_text(Document& d, const ObjId& id, Rng& rng) {
  const auto bounds = utf16_boundaries(d.text(id));
  const std::size_t start = rng.uniform(bounds.size());
  const std::size_t end =
      std::min(bounds.size() - 1, start + static_cast<std::size_t>(rng.uniform(3)));
  const std::size_t del = rng.uniform(3) == 0 ? bounds[end] - bounds[start] : 0;
  (void)d.splice_text(id, bounds[start], del, kWords[rng.uniform(std::size(kWords))]);
}

}  // namespace

void random_edits(Document& d, Rng& rng, int ops) {
  for (int i = 0; i < ops; ++i) {
    std::vector<Obj> objs;
    collect(d, doc::kRoot, ObjType::kMap, 0, objs);
    const Obj& o = objs[rng.uniform(objs.size())];
    switch (o.type) {
      case ObjType::kMap:
      case ObjType::kTable:
        edit_map(d, o.id, rng);
        break;
      case ObjType::kList:
        edit_list(d, o.id, rng);
        break;
      case ObjType::kText:
        edit_text(d, o.id, rng);
        break;
    }
  }
  doc::CommitOptions opts;
  opts.time = 0;
  d.commit(opts);
}

}  // namespace peat::interop
