// MdnsResponder: publishes one DNS-SD service instance (RFC 6762/6763), sans-I/O.
// Feed it received messages and `now`; poll() returns the datagrams to send.
//
// Timing: on start, three probes 250 ms apart (RFC 6762 §8.1: QU queries for the instance and host
// names carrying our records in the authority section), then two announcements 1 s apart (§8.3).
// A conflicting response while probing, or later a response with different data for one of our
// unique records (§9), renames the instance "peat-n1" → "peat-n1 (2)" (and the host "n1" →
// "n1-2") and probes again; a simultaneous probe with lexicographically later data (§8.2) makes
// us wait 1 s and probe again. Answers to queries are sent at once (no 20-120 ms aggregation
// delay unless ResponderOptions::rng is given); stop() sends a goodbye (TTL 0). Records: PTR <type>
// → <instance>.<type>, PTR _services._dns-sd._udp.local. → <type>, SRV/TXT of the instance, A/AAAA
// of the host. TTLs: 120 s for SRV/A/AAAA, 4500 s for PTR/TXT (§10). Known-answer suppression
// (§7.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/discovery/dns_message.hpp"
#include "peat/discovery/peer_info.hpp"

namespace peat::discovery::mdns {

constexpr std::uint16_t kMdnsPort = 5353;
constexpr const char* kMdnsGroupV4 = "224.0.0.251";

struct ServiceAdvert {
  dns::Name service_type;  // e.g. _peat._udp.local.
  std::string instance;    // one label, e.g. peat-<node_id>
  dns::Name host;          // e.g. <label>.local.
  std::uint16_t port = 0;
  std::vector<std::pair<std::string, std::string>> txt;  // in order
  std::vector<dns::AData> ipv4;
  std::vector<dns::AaaaData> ipv6;
  std::uint32_t host_ttl = 120;
  std::uint32_t other_ttl = 4500;

  dns::Name instance_name() const { return service_type.with_prefix(instance); }
};

// A datagram to send: to the multicast group, or unicast back to `to` (legacy unicast queries
// from a port other than 5353, RFC 6762 §6.7).
struct Outgoing {
  Bytes data;
  std::optional<SocketAddress> to;
};

struct ResponderOptions {
  bool probe = true;  // false: announce at once (names known to be unique, e.g. tests)
  // Source of the random delays: 0-250 ms before the first probe (§8.1) and 20-120 ms before
  // answers holding shared records such as the service PTR (§6). None: no delays.
  Rng* rng = nullptr;
};

class MdnsResponder {
 public:
  explicit MdnsResponder(ServiceAdvert advert, ResponderOptions options = {})
      : advert_(std::move(advert)),
        options_(options),
        base_instance_(advert_.instance),
        base_host_(advert_.host.labels.empty() ? std::string() : advert_.host.labels.front()) {}

  // The records as currently published (the instance and host names change on conflicts).
  const ServiceAdvert& advert() const { return advert_; }
  // Starts probing (then announcing), or announcing at once without probing.
  void start(Instant now);
  // Queues a goodbye for every record; nothing more is sent afterwards.
  void stop();
  bool running() const { return running_; }
  bool probing() const { return running_ && probes_sent_ >= 0; }
  // Name conflicts seen so far (each one renamed us).
  int conflicts() const { return conflicts_; }

  void on_message(const dns::Message& message, const SocketAddress& from, Instant now);
  std::vector<Outgoing> poll(Instant now);
  std::optional<Instant> next_wakeup() const;

  // Every record we own, with TTLs (0 for goodbye).
  std::vector<dns::ResourceRecord> records(bool goodbye) const;

 private:
  std::vector<dns::ResourceRecord> answers_for(const dns::Question& q) const;
  std::vector<dns::ResourceRecord> additionals_for(
      const std::vector<dns::ResourceRecord>& answers) const;
  // Our unique records (SRV, TXT, A, AAAA): the ones probed and defended.
  std::vector<dns::ResourceRecord> unique_records() const;
  bool owns_name(const dns::Name& name) const;
  bool conflicts_with(const dns::ResourceRecord& theirs) const;
  bool loses_tiebreak(const dns::Message& probe) const;
  void begin_probing(Instant at);
  void rename(Instant now);
  void answer_query(const dns::Message& message, const SocketAddress& from, Instant now);

  ServiceAdvert advert_;
  ResponderOptions options_;
  std::string base_instance_;
  std::string base_host_;
  int conflicts_ = 0;
  int probes_sent_ = -1;  // -1: not probing
  Instant next_probe_{};
  bool running_ = false;
  std::vector<Instant> announce_at_;
  bool goodbye_pending_ = false;
  std::vector<std::pair<Instant, Outgoing>> pending_;  // answers and when they are due
};

}  // namespace peat::discovery::mdns
