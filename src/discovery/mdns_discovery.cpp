// The only translation unit of discovery that includes Asio (UDP multicast for mDNS).
#include "peat/discovery/mdns_discovery.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <random>

#include "peat/discovery/peer_table.hpp"
#include "peat/runtime/io_loop.hpp"
#include "runtime/asio.hpp"

namespace peat::discovery {

namespace asio = boost::asio;
using asio::ip::udp;

std::string mdns_host_label(std::string_view node_id) {
  std::string out(node_id);
  for (char& c : out) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) c = '-';
  }
  return out;
}

Result<mdns::ServiceAdvert> make_service_advert(const MdnsConfig& config,
                                                const std::string& node_id, std::uint16_t port,
                                                const std::map<std::string, std::string>& metadata,
                                                const std::vector<std::string>& addresses) {
  auto type = dns::Name::parse(config.service_type);
  if (!type) return mdns_error("bad service type '" + config.service_type + "'");
  const auto& l = type->labels;
  if (l.size() != 3 || l[0].size() < 2 || l[0][0] != '_' || (l[1] != "_udp" && l[1] != "_tcp") ||
      l[2] != "local") {
    return mdns_error("service type must look like _name._udp.local. or _name._tcp.local.: '" +
                      config.service_type + "'");
  }
  if (node_id.empty()) return mdns_error("node_id must not be empty");
  mdns::ServiceAdvert a;
  a.service_type = std::move(*type);
  a.instance = "peat-" + node_id;
  if (a.instance.size() > 63) return mdns_error("node_id too long for a DNS label (max 58 bytes)");
  a.host = dns::Name{{mdns_host_label(node_id), "local"}};
  a.port = port;
  // node_id first, then the metadata; a metadata key node_id overrides it (as in Rust).
  a.txt.emplace_back("node_id", node_id);
  for (const auto& [k, v] : metadata) {
    if (k.empty() || k.find('=') != std::string::npos) {
      return mdns_error("bad TXT key '" + k + "'");
    }
    if (k.size() + v.size() + 1 > 255) return mdns_error("TXT entry for '" + k + "' too long");
    if (k == "node_id") {
      a.txt.front().second = v;
    } else {
      a.txt.emplace_back(k, v);
    }
  }
  for (const auto& ip : addresses) {
    dns::AData v4;
    dns::AaaaData v6;
    if (inet_pton(AF_INET, ip.c_str(), v4.data()) == 1) {
      a.ipv4.push_back(v4);
    } else if (inet_pton(AF_INET6, ip.c_str(), v6.data()) == 1) {
      a.ipv6.push_back(v6);
    } else {
      return mdns_error("not an IP address: '" + ip + "'");
    }
  }
  if (a.ipv4.empty() && a.ipv6.empty()) return mdns_error("no address to advertise");
  return a;
}

std::optional<PeerInfo> peer_from_service(const mdns::ResolvedService& service, Instant now) {
  PeerInfo p;
  bool has_id = false;
  for (const auto& [k, v] : service.txt) {
    if (k == "node_id") {
      p.node_id = v;
      has_id = true;
    } else {
      p.metadata[k] = v;
    }
  }
  if (!has_id) return std::nullopt;
  for (const auto& ip : service.addresses) p.addresses.push_back({ip, service.port});
  if (p.addresses.empty()) return std::nullopt;
  p.last_seen = now;
  return p;
}

std::optional<std::string> node_id_from_instance(const dns::Name& instance_name) {
  if (instance_name.labels.empty()) return std::nullopt;
  const std::string& first = instance_name.labels.front();
  if (first.rfind("peat-", 0) != 0) return std::nullopt;
  return first.substr(5);
}

std::vector<std::string> interface_addresses(const std::string& name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::vector<std::string> chosen, loopback;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    if (!name.empty() && name != i->ifa_name) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) continue;  // needs a scope id to be usable
      inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    ((i->ifa_flags & IFF_LOOPBACK) && name.empty() ? loopback : chosen).push_back(buf);
  }
  freeifaddrs(list);
  return chosen.empty() ? loopback : chosen;
}

struct MdnsDiscovery::Impl {
  Impl(MdnsDiscovery& o, runtime::IoLoop& l, MdnsConfig c)
      : owner(o), loop(l), config(std::move(c)), rng(std::random_device{}()) {}

  MdnsDiscovery& owner;
  runtime::IoLoop& loop;
  MdnsConfig config;
  SeededRng rng;
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  std::optional<udp::socket> socket;
  udp::endpoint group;
  std::array<std::uint8_t, 9000> buf{};
  udp::endpoint from;
  std::unique_ptr<mdns::MdnsBrowser> browser;
  std::unique_ptr<mdns::MdnsResponder> responder;
  std::string advertised_node;
  TimerId timer = 0;
  bool timer_armed = false;
  bool running = false;
  mutable std::mutex mu;
  PeerTable table;
  std::map<std::string, std::string> instance_node;  // lowercase instance name → node_id

  Status open() {
    boost::system::error_code ec;
    asio::ip::address_v4 iface = asio::ip::address_v4::any();
    if (!config.interface.empty()) {
      bool found = false;
      for (const auto& ip : interface_addresses(config.interface)) {
        auto a = asio::ip::make_address(ip, ec);
        if (!ec && a.is_v4()) {
          iface = a.to_v4();
          found = true;
          break;
        }
      }
      if (!found) return mdns_error("interface '" + config.interface + "' has no IPv4 address");
    }
    auto group_addr = asio::ip::make_address_v4(config.group, ec);
    if (ec || !group_addr.is_multicast()) return mdns_error("bad multicast group " + config.group);
    group = udp::endpoint(group_addr, config.port);
    socket.emplace(runtime::asio_context(loop));
    auto fail = [&](const char* what) {
      std::string m = std::string(what) + ": " + ec.message();
      socket.reset();
      return mdns_error(m);
    };
    socket->open(udp::v4(), ec);
    if (ec) return fail("open");
    socket->set_option(udp::socket::reuse_address(true), ec);
    if (ec) return fail("SO_REUSEADDR");
    int one = 1;
    if (setsockopt(socket->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec.assign(errno, boost::system::system_category());
      return fail("SO_REUSEPORT");
    }
    // Only groups this socket joined, on the interfaces it joined them on (Linux default: every
    // group any socket joined).
    int zero = 0;
    if (setsockopt(socket->native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) !=
        0) {
      ec.assign(errno, boost::system::system_category());
      return fail("IP_MULTICAST_ALL");
    }
    if (!config.interface.empty() &&
        setsockopt(socket->native_handle(), SOL_SOCKET, SO_BINDTODEVICE, config.interface.c_str(),
                   static_cast<socklen_t>(config.interface.size())) != 0) {
      ec.assign(errno, boost::system::system_category());
      return fail("SO_BINDTODEVICE");
    }
    socket->bind(udp::endpoint(asio::ip::address_v4::any(), config.port), ec);
    if (ec) return fail("bind");
    socket->set_option(asio::ip::multicast::join_group(group_addr, iface), ec);
    if (ec) return fail("join group");
    if (!config.interface.empty()) {
      socket->set_option(asio::ip::multicast::outbound_interface(iface), ec);
      if (ec) return fail("IP_MULTICAST_IF");
    }
    socket->set_option(asio::ip::multicast::enable_loopback(true), ec);
    if (ec) return fail("IP_MULTICAST_LOOP");
    socket->set_option(asio::ip::multicast::hops(255), ec);
    if (ec) return fail("IP_MULTICAST_TTL");
    receive();
    return {};
  }

  void receive() {
    std::weak_ptr<int> token = alive;
    socket->async_receive_from(asio::buffer(buf), from,
                               [this, token](const boost::system::error_code& ec, std::size_t n) {
                                 if (token.expired() || !socket) return;
                                 if (!ec) on_datagram(n);
                                 if (ec != asio::error::operation_aborted) receive();
                               });
  }

  void on_datagram(std::size_t n) {
    auto msg = dns::decode_dns_message(ByteView(buf.data(), n));
    if (!msg) return;  // not ours to fix: malformed packets are dropped
    const Instant now = loop.now();
    const SocketAddress src{from.address().to_string(), from.port()};
    if (responder) responder->on_message(*msg, src, now);
    if (browser) browser->on_message(*msg, now);
    service();
  }

  void send(const mdns::Outgoing& out) {
    if (!socket) return;
    boost::system::error_code ec;
    udp::endpoint to = group;
    if (out.to) {
      auto addr = asio::ip::make_address(out.to->host, ec);
      if (ec) return;
      to = udp::endpoint(addr, out.to->port);
    }
    socket->send_to(asio::buffer(out.data), to, 0, ec);  // UDP: a lost datagram is not an error
  }

  // Runs the state machines: sends what is due, turns browser events into discovery events, and
  // re-arms the timer.
  void service() {
    const Instant now = loop.now();
    if (responder) {
      for (const auto& o : responder->poll(now)) send(o);
    }
    if (browser) {
      for (auto& q : browser->poll(now)) send(mdns::Outgoing{std::move(q), std::nullopt});
      for (auto& e : browser->take_events()) on_browser_event(e, now);
    }
    arm(now);
  }

  void on_browser_event(const mdns::BrowserEvent& e, Instant now) {
    const std::string key = e.service.instance_name.to_string();
    std::optional<DiscoveryEvent> out;
    {
      std::lock_guard lock(mu);
      if (e.kind == mdns::BrowserEvent::Kind::kResolved) {
        auto peer = peer_from_service(e.service, now);
        if (!peer) return;
        auto old = instance_node.find(key);
        if (old != instance_node.end() && old->second != peer->node_id) {
          if (auto lost = table.remove(old->second)) owner.emit(std::move(*lost));
        }
        instance_node[key] = peer->node_id;
        // Like Rust: a known node yields PeerUpdated even if nothing changed.
        const bool known = table.contains(peer->node_id);
        out = table.observe(*peer, now);
        if (!out && known) out = PeerUpdated{*peer};
      } else {
        auto it = instance_node.find(key);
        if (it == instance_node.end()) return;
        out = table.remove(it->second);
        instance_node.erase(it);
      }
    }
    if (out) owner.emit(std::move(*out));
  }

  void arm(Instant now) {
    if (timer_armed) loop.cancel(timer);
    timer_armed = false;
    std::optional<Instant> next;
    for (auto w : {responder ? responder->next_wakeup() : std::nullopt,
                   browser ? browser->next_wakeup() : std::nullopt}) {
      if (w && (!next || *w < *next)) next = w;
    }
    if (!next || !socket) return;
    const Duration delay = *next <= now ? Duration::zero() : *next - now;
    std::weak_ptr<int> token = alive;
    timer = loop.call_after(delay, [this, token] {
      if (token.expired()) return;
      timer_armed = false;
      service();
    });
    timer_armed = true;
  }

  void close() {
    if (timer_armed) loop.cancel(timer);
    timer_armed = false;
    if (socket) {
      boost::system::error_code ec;
      socket->close(ec);
      socket.reset();
    }
  }
};

MdnsDiscovery::MdnsDiscovery(runtime::IoLoop& loop, MdnsConfig config)
    : impl_(std::make_unique<Impl>(*this, loop, std::move(config))) {}

MdnsDiscovery::~MdnsDiscovery() {
  (void)stop();
  impl_->close();
}

Status MdnsDiscovery::start() {
  Impl& d = *impl_;
  if (d.running) return {};
  auto type = dns::Name::parse(d.config.service_type);
  if (!type || type->labels.size() != 3) {
    return mdns_error("bad service type '" + d.config.service_type + "'");
  }
  PEAT_TRY_STATUS(d.open());
  d.running = true;
  const Instant now = d.loop.now();
  d.browser = std::make_unique<mdns::MdnsBrowser>(std::move(*type), d.rng);
  d.browser->start(now);
  if (d.responder) d.responder->start(now);
  d.service();
  return {};
}

Status MdnsDiscovery::stop() {
  Impl& d = *impl_;
  if (!d.running) return {};
  d.running = false;
  if (d.responder) d.responder->stop();
  if (d.browser) d.browser->stop();
  const Instant now = d.loop.now();
  if (d.responder) {
    for (const auto& o : d.responder->poll(now)) d.send(o);  // the goodbye
  }
  d.close();
  return {};
}

Status MdnsDiscovery::advertise(const std::string& node_id, std::uint16_t port) {
  return advertise(node_id, port, {});
}

Status MdnsDiscovery::advertise(const std::string& node_id, std::uint16_t port,
                                const std::map<std::string, std::string>& metadata) {
  Impl& d = *impl_;
  auto addresses = d.config.advertise_addresses.empty() ? interface_addresses(d.config.interface)
                                                        : d.config.advertise_addresses;
  auto advert = make_service_advert(d.config, node_id, port, metadata, addresses);
  if (!advert) return advert.error();
  if (d.responder && d.running) {
    d.responder->stop();
    for (const auto& o : d.responder->poll(d.loop.now())) d.send(o);
  }
  d.responder = std::make_unique<mdns::MdnsResponder>(std::move(*advert),
                                                      mdns::ResponderOptions{true, &d.rng});
  d.advertised_node = node_id;
  if (d.running) {
    d.responder->start(d.loop.now());
    d.service();
  }
  return {};
}

Status MdnsDiscovery::unadvertise(const std::string& node_id) {
  Impl& d = *impl_;
  if (!d.responder || d.advertised_node != node_id) {
    return mdns_error("node " + node_id + " is not advertised");
  }
  if (d.running) {
    d.responder->stop();
    for (const auto& o : d.responder->poll(d.loop.now())) d.send(o);
  }
  d.responder.reset();
  d.advertised_node.clear();
  return {};
}

std::vector<PeerInfo> MdnsDiscovery::discovered_peers() const {
  std::lock_guard lock(impl_->mu);
  return impl_->table.peers();
}

}  // namespace peat::discovery
