#include "peat/routing/dedup.hpp"

namespace peat::routing {

bool DeduplicationCache::contains(const std::string& id, Instant now) const {
  auto it = first_seen_.find(id);
  return it != first_seen_.end() && now - it->second < config_.ttl;
}

void DeduplicationCache::erase(const std::string& id) {
  auto it = first_seen_.find(id);
  if (it == first_seen_.end()) return;
  auto [lo, hi] = by_age_.equal_range(it->second);
  for (auto a = lo; a != hi; ++a) {
    if (a->second == id) {
      by_age_.erase(a);
      break;
    }
  }
  first_seen_.erase(it);
}

std::size_t DeduplicationCache::purge_expired(Instant now) {
  std::size_t removed = 0;
  while (!by_age_.empty() && now - by_age_.begin()->first >= config_.ttl) {
    first_seen_.erase(by_age_.begin()->second);
    by_age_.erase(by_age_.begin());
    ++removed;
  }
  return removed;
}

bool DeduplicationCache::check_and_record(const std::string& id, Instant now) {
  if (contains(id, now)) return true;
  erase(id);  // expired entry: record afresh
  if (first_seen_.size() >= config_.max_entries) {
    purge_expired(now);
    if (first_seen_.size() >= config_.max_entries && !by_age_.empty()) {
      first_seen_.erase(by_age_.begin()->second);
      by_age_.erase(by_age_.begin());
    }
  }
  if (config_.max_entries == 0) return false;
  first_seen_.emplace(id, now);
  by_age_.emplace(now, id);
  return false;
}

void DeduplicationCache::clear() {
  first_seen_.clear();
  by_age_.clear();
}

}  // namespace peat::routing
