// MdnsBrowser: finds and resolves the instances of one DNS-SD service type, sans-I/O.
//
// Queries (RFC 6762 §5.2): first at start, then 1 s later, the interval doubling up to 60 min,
// with known answers (§7.1) whose remaining TTL is over half. Cache (§10): each record expires
// after its TTL; TTL 0 (goodbye) expires it 1 s later; cache-flush records replace older records
// of the same name and type received over 1 s before. Refresh (§5.2): at 80, 85, 90 and 95 % of a
// record's TTL (+0-2 % random) a query for it is sent. Instances whose SRV/TXT or host address is
// missing are queried directly (1 s, doubling to 60 s).
// An instance is "resolved" once it has PTR, SRV, TXT and at least one address; "removed" when it
// stops being resolved (PTR or SRV gone, or no address left).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/discovery/dns_message.hpp"

namespace peat::discovery::mdns {

struct ResolvedService {
  dns::Name instance_name;  // <instance>.<type>
  dns::Name host;
  std::uint16_t port = 0;
  std::vector<std::pair<std::string, std::string>> txt;
  std::vector<std::string> addresses;  // IP literals, IPv4 first

  std::string instance_label() const {
    return instance_name.labels.empty() ? std::string() : instance_name.labels.front();
  }
  bool operator==(const ResolvedService& other) const;
};

struct BrowserEvent {
  enum class Kind { kResolved, kRemoved };
  Kind kind = Kind::kResolved;
  ResolvedService service;  // for kRemoved: the last resolved state
};

class MdnsBrowser {
 public:
  MdnsBrowser(dns::Name service_type, Rng& rng) : type_(std::move(service_type)), rng_(rng) {}

  void start(Instant now);
  void stop() { running_ = false; }
  bool running() const { return running_; }

  void on_message(const dns::Message& message, Instant now);
  // Expires records and returns the query to multicast, if one is due.
  std::vector<Bytes> poll(Instant now);
  std::optional<Instant> next_wakeup() const;
  std::vector<BrowserEvent> take_events();

  std::vector<ResolvedService> services() const;
  // Interval until the next browse query (for tests of the back-off).
  Duration query_interval() const { return interval_; }
  std::size_t cache_size() const { return cache_.size(); }

 private:
  struct Entry {
    dns::ResourceRecord rr;
    Instant received;
    Instant expires;
    int refresh_step = 0;  // refreshes already sent (0..4)
    Instant refresh_at;
  };
  void insert(const dns::ResourceRecord& rr, Instant now);
  void schedule_refresh(Entry& e);
  void resolve();
  std::optional<ResolvedService> resolve_instance(const dns::Name& instance) const;

  dns::Name type_;
  Rng& rng_;
  bool running_ = false;
  Instant next_query_{};
  Duration interval_{};
  std::vector<Entry> cache_;
  std::map<std::string, ResolvedService> reported_;             // key: lowercase instance name
  std::map<std::string, std::pair<Instant, Duration>> direct_;  // pending direct queries
  std::vector<BrowserEvent> events_;
};

}  // namespace peat::discovery::mdns
