// MdnsResponder: publishes one DNS-SD service instance (RFC 6762/6763), sans-I/O.
// Feed it received messages and `now`; poll() returns the datagrams to send.
//
// Timing: two announcements on start, 1 s apart (RFC 6762 §8.3); answers to queries are sent at
// once (no 20-120 ms aggregation delay); stop() sends a goodbye (TTL 0). Records: PTR
// <type> → <instance>.<type>, PTR _services._dns-sd._udp.local. → <type>, SRV/TXT of the instance,
// A/AAAA of the host. TTLs: 120 s for SRV/A/AAAA, 4500 s for PTR/TXT (RFC 6762 §10). Known-answer
// suppression (§7.1) for PTR answers. No probing: name conflicts are not detected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peat/common/clock.hpp"
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

class MdnsResponder {
 public:
  explicit MdnsResponder(ServiceAdvert advert) : advert_(std::move(advert)) {}

  const ServiceAdvert& advert() const { return advert_; }
  // Schedules the two announcements (now, now + 1 s).
  void start(Instant now);
  // Queues a goodbye for every record; nothing more is sent afterwards.
  void stop();
  bool running() const { return running_; }

  void on_message(const dns::Message& message, const SocketAddress& from, Instant now);
  std::vector<Outgoing> poll(Instant now);
  std::optional<Instant> next_wakeup() const;

  // Every record we own, with TTLs (0 for goodbye).
  std::vector<dns::ResourceRecord> records(bool goodbye) const;

 private:
  std::vector<dns::ResourceRecord> answers_for(const dns::Question& q) const;
  std::vector<dns::ResourceRecord> additionals_for(
      const std::vector<dns::ResourceRecord>& answers) const;

  ServiceAdvert advert_;
  bool running_ = false;
  std::vector<Instant> announce_at_;
  bool goodbye_pending_ = false;
  std::vector<Outgoing> pending_;
};

}  // namespace peat::discovery::mdns
