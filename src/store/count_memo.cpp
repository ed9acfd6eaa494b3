#include "peat/store/count_memo.hpp"

#include <optional>

#include "peat/common/byte_io.hpp"

namespace peat::store {

namespace {

// Changes with every write: DocumentStore sets the version (heads) on each put; the sequence,
// sizes and Lamport value also move for writes that do not.
Bytes fingerprint(const DocMeta& m) {
  BeWriter w;
  w.u64(m.lamport);
  w.u32(m.next_seq);
  w.u64(m.snapshot_bytes);
  w.u64(m.tail_bytes);
  w.bytes(m.version);
  return w.take();
}

}  // namespace

void CountMemo::remember(const std::string& key, const DocMeta& meta, bool passed) {
  Seen s{fingerprint(meta), passed};
  std::lock_guard lock(mu_);
  seen_[key] = std::move(s);
}

Result<std::size_t> CountMemo::count(const DocumentStore& store, std::string_view prefix) {
  auto metas = store.base().scan_meta(prefix, true);
  if (!metas.ok()) return metas.error();
  std::map<std::string, Seen, std::less<>> fresh;
  std::size_t n = 0;
  for (auto& [key, m] : *metas) {
    Bytes print = fingerprint(m);
    std::optional<bool> passed;
    {
      std::lock_guard lock(mu_);
      auto it = seen_.find(key);
      if (it != seen_.end() && it->second.fingerprint == print) passed = it->second.passed;
    }
    if (!passed) {
      // Loaded after its metadata was read: if a write landed in between, the next count sees
      // a newer fingerprint and loads it again.
      auto d = store.get(key);
      if (!d.ok()) return d.error();
      passed = d->has_value() && test_(**d);
    }
    if (*passed) ++n;
    fresh.emplace(key, Seen{std::move(print), *passed});
  }
  std::lock_guard lock(mu_);
  seen_ = std::move(fresh);
  return n;
}

}  // namespace peat::store
