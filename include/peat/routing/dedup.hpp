// De-duplication of routed packets by id, bounded by entry count and age.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>

#include "peat/common/clock.hpp"

namespace peat::routing {

struct DeduplicationConfig {
  bool enabled = true;
  Duration ttl = std::chrono::seconds(300);
  std::size_t max_entries = 10000;
};

class DeduplicationCache {
 public:
  explicit DeduplicationCache(DeduplicationConfig config = {}) : config_(config) {}

  // True if `packet_id` was seen less than ttl ago. Otherwise records it (first_seen = now),
  // first purging expired entries and then the oldest one when the cache is full.
  bool check_and_record(const std::string& packet_id, Instant now);
  bool contains(const std::string& packet_id, Instant now) const;
  std::size_t purge_expired(Instant now);
  void clear();
  std::size_t size() const { return first_seen_.size(); }
  const DeduplicationConfig& config() const { return config_; }

 private:
  void erase(const std::string& id);

  DeduplicationConfig config_;
  std::unordered_map<std::string, Instant> first_seen_;
  std::multimap<Instant, std::string> by_age_;
};

}  // namespace peat::routing
