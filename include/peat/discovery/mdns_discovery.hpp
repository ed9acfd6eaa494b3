// MdnsDiscovery: the mDNS DiscoveryStrategy over real sockets (Asio UDP multicast, IPv4
// 224.0.0.251:5353). Runs the sans-I/O MdnsResponder/MdnsBrowser on an IoLoop; every method must
// be called on that loop's thread (discovered_peers() may be called from any thread).
//
// Same contract as the Rust MdnsDiscovery: service type `_peat._udp.local.`, instance
// `peat-<node_id>`, host `<node_id with chars outside [A-Za-z0-9-] → '-'>.local.`, TXT
// `node_id=<id>` then the metadata pairs; a resolved instance without TXT node_id or without
// addresses is ignored; metadata = TXT minus node_id. Unlike the Rust crate, stop() stops browsing
// and sends goodbyes for the advertised service, and removal maps the instance to the node_id it
// resolved with (node ids containing '.' work).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/discovery/mdns_browser.hpp"
#include "peat/discovery/mdns_responder.hpp"
#include "peat/discovery/strategy.hpp"

namespace peat::runtime {
class IoLoop;
}

namespace peat::discovery {

struct MdnsConfig {
  std::string service_type = "_peat._udp.local.";
  // Interface to use (e.g. "eth0"): the socket is bound to it (SO_BINDTODEVICE), multicast is
  // joined and sent there, and only its addresses are advertised. Empty: the system's default
  // multicast interface; addresses of every up, non-loopback interface (loopback ones only if there
  // is nothing else).
  std::string interface;
  // Overrides the advertised addresses (IP literals).
  std::vector<std::string> advertise_addresses;
  std::uint16_t port = mdns::kMdnsPort;  // tests may use another port
  std::string group = mdns::kMdnsGroupV4;
};

// Pure helpers (tested without sockets).
std::string mdns_host_label(std::string_view node_id);
Result<mdns::ServiceAdvert> make_service_advert(const MdnsConfig& config,
                                                const std::string& node_id, std::uint16_t port,
                                                const std::map<std::string, std::string>& metadata,
                                                const std::vector<std::string>& addresses);
// The Rust parse_service_info: nothing without TXT node_id or without addresses.
std::optional<PeerInfo> peer_from_service(const mdns::ResolvedService& service, Instant now);
// "peat-<id>.<type>" → "<id>" (first label must start with "peat-").
std::optional<std::string> node_id_from_instance(const dns::Name& instance_name);
// Addresses of interface `name` (all up interfaces if empty; see MdnsConfig::interface).
std::vector<std::string> interface_addresses(const std::string& name);

class MdnsDiscovery final : public DiscoveryStrategy {
 public:
  MdnsDiscovery(runtime::IoLoop& loop, MdnsConfig config = {});
  ~MdnsDiscovery() override;

  // Opens the socket and starts browsing. Idempotent. MDNS_ERROR on socket failures or a bad
  // service type.
  Status start() override;
  // Stops browsing, sends goodbyes for an advertised service, closes the socket.
  Status stop() override;
  Status advertise(const std::string& node_id, std::uint16_t port) override;
  // Advertises with extra TXT pairs. Replaces an earlier advertisement. Announces at once if
  // running, else on start().
  Status advertise(const std::string& node_id, std::uint16_t port,
                   const std::map<std::string, std::string>& metadata);
  // Sends goodbyes for the advertisement of `node_id`.
  Status unadvertise(const std::string& node_id);
  std::vector<PeerInfo> discovered_peers() const override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::discovery
