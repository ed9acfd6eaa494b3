// Asio adapter of the sans-I/O QUIC connection: one UDP socket, a timer per connection, GSO/GRO.
#include "peat/transport/quic/quic_transport.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "peat/transport/quic/connection.hpp"
#include "runtime/asio.hpp"

namespace peat::transport::quic {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr std::size_t kMaxSegments = 64;        // the kernel's UDP GSO segment limit
constexpr std::size_t kMaxGsoBytes = 65507;     // a GSO send is one UDP datagram (IPv4 max)
constexpr std::size_t kRecvBufferSize = 65536;  // one GRO aggregate
constexpr std::size_t kRecvPerWakeup = 64;      // socket reads before yielding to the loop
constexpr std::size_t kBatchesPerFlush = 16;    // GSO batches per connection before yielding
constexpr int kSocketBufferBytes = 8 * 1024 * 1024;
// stop() waits at most this long in total for a full socket to take the CONNECTION_CLOSEs.
constexpr auto kStopFlushLimit = std::chrono::milliseconds(100);
// Stateless resets sent per second at most (each answers a packet for a connection we do not
// know, e.g. one a previous run of this node left behind).
constexpr std::uint32_t kResetsPerSecond = 100;
// Two connections with a peer, dialled from both ends, are a simultaneous dial if the newer one
// began within this long after the older one was established (covering a lost and resent
// Initial, ~1 s); later, the peer dialled again because it lost the older one.
constexpr auto kDialRaceWindow = std::chrono::seconds(2);

UdpEndpoint to_udp_endpoint(const udp::endpoint& ep) {
  UdpEndpoint out;
  std::memcpy(&out.storage, ep.data(), ep.size());
  out.length = static_cast<socklen_t>(ep.size());
  return out;
}

// Same IP address and port (the kernel and ngtcp2 may differ in the bytes they leave unset).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

const char* unreachable_text(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "ICMP port unreachable (nothing listens on the peer's port)";
    case EHOSTUNREACH:
      return "ICMP host unreachable";
    case ENETUNREACH:
      return "ICMP network unreachable";
    default:
      return nullptr;
  }
}

}  // namespace

struct QuicTransport::Impl : std::enable_shared_from_this<QuicTransport::Impl> {
  struct Link {
    std::unique_ptr<Connection> conn;
    std::unique_ptr<asio::steady_timer> timer;
    Instant armed_for{};
    bool armed = false;
    bool outgoing = false;
    PeerId dialled;         // outgoing: the peer asked for
    bool reported = false;  // on_connected was delivered
    bool silent = false;    // closing a duplicate: no events
    bool inherit = false;   // takes over a reported peer from a closed duplicate: no new event
    // Established while our own dial to the same peer, which wins a simultaneous dial, is under
    // way: not reported; its messages wait in `pending` for the dial's outcome.
    bool held = false;
    // The losing duplicate of a simultaneous dial, kept until the messages sent on it are
    // through: its received messages are delivered, sends go to the winner. Its dialler closes
    // it once everything it sent is acknowledged; the other side waits for that close.
    bool draining = false;
    // Received messages and datagrams not delivered yet: the link is not reported, or a
    // draining duplicate of the peer still delivers what was sent before these.
    std::vector<ConnectionEvent> pending;
    bool flush_posted = false;
    Instant last_activity{};
    Instant created{};      // when the link was dialled or its first packet arrived
    Instant established{};  // when it became the peer's connection (by_peer)
    std::string served;     // accepted on a served ALPN (serve()): not a peer link
  };

  // An application protocol served apart from the peer links on the same socket (serve()).
  struct Served {
    AdmitFn admit;
    TransportEvents events;
    std::map<PeerId, std::uint64_t> by_peer;
  };

  runtime::IoLoop& loop;
  QuicTransportConfig config;
  Rng& rng;
  Capabilities caps;
  TransportEvents events;
  std::shared_ptr<TlsIdentity> tls;
  std::unique_ptr<udp::socket> socket;
  UdpEndpoint local;
  QuicIoStats io;
  bool blocked_on_send = false;
  bool errors_pending = false;  // a send consumed an ICMP error report: read the error queue
  ResetKey reset_key{};
  Instant reset_window{};
  std::uint32_t resets_in_window = 0;

  std::uint64_t next_id = 1;
  std::map<std::uint64_t, Link> links;
  std::map<Bytes, std::uint64_t> by_cid;
  std::map<PeerId, std::uint64_t> by_peer;     // established
  std::map<PeerId, std::uint64_t> connecting;  // outgoing, handshake in progress
  // Messages of a held duplicate that its dialler closed before our own dial was confirmed:
  // delivered when the peer is reported.
  std::map<PeerId, std::vector<ConnectionEvent>> orphaned;
  std::map<std::string, Served, std::less<>> served;
  std::size_t draining_count = 0;  // links with `draining` set (skips the scan per message)
  std::vector<std::uint8_t> send_buf = std::vector<std::uint8_t>(kMaxGsoBytes);
  std::vector<std::uint8_t> recv_buf = std::vector<std::uint8_t>(kRecvBufferSize);

  Impl(runtime::IoLoop& l, QuicTransportConfig c, Rng& r) : loop(l), config(std::move(c)), rng(r) {
    caps.type = TransportType::kQuic;
    caps.reliable = true;
    caps.ordered = true;
    caps.max_message_size = config.settings.max_message_size;
    caps.bandwidth_bps = 100'000'000;
    caps.typical_latency_ms = 10;
    caps.power_cost = 20;
    caps.max_range_m = 0;
  }

  Instant now() const { return loop.now(); }

  ConnectionOptions options_for(std::vector<std::string> alpns) const {
    ConnectionOptions o;
    o.tls = tls;
    o.settings = config.settings;
    o.alpns = std::move(alpns);
    o.reset_key = reset_key;
    return o;
  }

  // ---- socket ------------------------------------------------------------------------------

  Status start() {
    if (socket) return {};
    auto identity = TlsIdentity::create(config.identity);
    if (!identity) return identity.error();
    tls = std::move(identity).value();
    reset_key = reset_key_for(config.identity);
    auto s = open_socket(config.bind_port);
    if (!s) return s.error();
    socket = std::move(s).value();
    wait_readable();
    return {};
  }

  Result<std::unique_ptr<udp::socket>> open_socket(std::uint16_t port) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(config.bind_host, ec);
    if (ec) return make_error("BIND_FAILED", "bad bind address " + config.bind_host);
    auto s = std::make_unique<udp::socket>(runtime::asio_context(loop));
    const udp::endpoint ep(address, port);
    s->open(ep.protocol(), ec);
    if (!ec) s->bind(ep, ec);
    if (!ec) s->non_blocking(true, ec);
    if (ec)
      return make_error("BIND_FAILED", ep.address().to_string() + ":" + std::to_string(ep.port()) +
                                           ": " + ec.message());
    const int fd = s->native_handle();
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof(kSocketBufferBytes));
    const int on = 1;
    io.gro = config.use_gro && setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
    // ICMP errors for datagrams we sent (a peer whose process is gone answers with port
    // unreachable) are queued on the socket with the address they were sent to.
    if (ep.address().is_v6()) setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
    setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
    // GSO needs no socket option; a failing first send turns it off.
    io.gso = config.use_gso;
    local = to_udp_endpoint(s->local_endpoint(ec));
    return s;
  }

  Status rebind(std::uint16_t port) {
    if (!socket) return make_error("NOT_STARTED", "transport not started");
    auto s = open_socket(port);
    if (!s) return s.error();
    boost::system::error_code ec;
    socket->close(ec);  // cancels the pending waits, which then see the new socket
    socket = std::move(s).value();
    blocked_on_send = false;
    for (auto& [id, l] : links) l.conn->set_local_address(local);
    wait_readable();
    std::vector<std::uint64_t> ids;
    for (auto& [id, l] : links) ids.push_back(id);
    for (std::uint64_t id : ids) post_flush(id);
    return {};
  }

  void wait_readable() {
    if (!socket) return;
    socket->async_wait(udp::socket::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec || !self->socket) return;
                         self->on_readable();
                       });
  }

  void on_readable() {
    std::set<std::uint64_t> touched;
    const int fd = socket->native_handle();
    for (std::size_t i = 0; i < kRecvPerWakeup; ++i) {
      sockaddr_storage from{};
      iovec iov{recv_buf.data(), recv_buf.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof(from);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (errors_pending) {
            errors_pending = false;
            read_errors(touched);
            for (std::uint64_t id : touched) flush(id);
            if (!socket || socket->native_handle() != fd) return;
          }
          wait_readable();
          return;
        }
        // An ICMP error surfacing on the socket. Its queue is read once the datagrams that
        // arrived before it are handled (a peer's CONNECTION_CLOSE precedes the port
        // unreachable that our next packet to it draws).
        errors_pending = true;
        continue;
      }
      std::size_t segment = static_cast<std::size_t>(n);
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int gso_size = 0;
          std::memcpy(&gso_size, CMSG_DATA(c), sizeof(gso_size));
          if (gso_size > 0) segment = static_cast<std::size_t>(gso_size);
        }
      }
      UdpEndpoint src;
      src.storage = from;
      src.length = msg.msg_namelen;
      for (std::size_t off = 0; off < static_cast<std::size_t>(n);
           off += std::max<std::size_t>(segment, 1)) {
        const std::size_t len = std::min(segment, static_cast<std::size_t>(n) - off);
        dispatch(ByteView(recv_buf.data() + off, len), src, touched);
        if (!socket) return;
      }
      // Answer (ACKs, replies) after every read batch: holding ACKs back stalls the sender.
      for (std::uint64_t id : touched) flush(id);
      touched.clear();
      // Stopped, or rebound by a callback (the new socket has its own wait).
      if (!socket || socket->native_handle() != fd) return;
    }
    // Still readable: yield to other work, then continue reading.
    loop.post([weak = weak_from_this()] {
      auto self = weak.lock();
      if (self && self->socket) self->on_readable();
    });
  }

  // Drains the socket's error queue (IP_RECVERR). Each entry is an ICMP error for a datagram we
  // sent, with that datagram's destination; the connections to it are told.
  void read_errors(std::set<std::uint64_t>& touched) {
    const int fd = socket->native_handle();
    for (std::size_t i = 0; i < kRecvPerWakeup; ++i) {
      sockaddr_storage to{};
      std::uint8_t data[64];
      iovec iov{data, sizeof(data)};
      alignas(cmsghdr) char control[512];
      msghdr msg{};
      msg.msg_name = &to;
      msg.msg_namelen = sizeof(to);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
        const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6) continue;
        sock_extended_err err{};
        std::memcpy(&err, CMSG_DATA(c), sizeof(err));
        if (err.ee_origin != SO_EE_ORIGIN_ICMP && err.ee_origin != SO_EE_ORIGIN_ICMP6) continue;
        const char* why = unreachable_text(static_cast<int>(err.ee_errno));
        if (why == nullptr) continue;  // e.g. "fragmentation needed": PMTUD's business
        for (auto& [id, l] : links) {
          if (l.conn->is_closed() || !same_address(l.conn->destination().storage, to)) continue;
          l.conn->report_unreachable(why);
          touched.insert(id);
        }
      }
    }
  }

  void dispatch(ByteView datagram, const UdpEndpoint& from, std::set<std::uint64_t>& touched) {
    ++io.datagrams_received;
    const auto cid = destination_cid(datagram);
    if (!cid) {
      ++io.ignored_datagrams;
      return;
    }
    if (auto it = by_cid.find(*cid); it != by_cid.end()) {
      Link& l = links.at(it->second);
      l.conn->receive(datagram, from, now());
      l.last_activity = now();
      touched.insert(it->second);
      return;
    }
    if (!is_initial_packet(datagram)) {
      if (!stateless_reset_of_a_peer(datagram, from, touched)) answer_unknown(datagram, from);
      ++io.ignored_datagrams;
      return;
    }
    if (links.size() >= config.max_connections) {
      ++io.ignored_datagrams;
      return;
    }
    ConnectionOptions o = options_for(config.accept_alpns);
    if (served.empty()) {
      o.admit = config.admit;
    } else {
      o.admit = [weak = weak_from_this()](const PeerId& peer, const PublicKey& key,
                                          std::string_view alpn) {
        auto self = weak.lock();
        if (!self) return false;
        if (auto s = self->served.find(alpn); s != self->served.end()) {
          return !s->second.admit || s->second.admit(peer, key, alpn);
        }
        return !self->config.admit || self->config.admit(peer, key, alpn);
      };
    }
    auto conn = Connection::accept(std::move(o), local, from, datagram, rng, now());
    if (!conn) {
      ++io.ignored_datagrams;
      return;
    }
    const std::uint64_t id = add_link(std::move(conn).value(), false, PeerId());
    touched.insert(id);
  }

  // A datagram naming no connection of ours may be a peer's stateless reset: it comes from a
  // peer's address and ends with one of its tokens.
  bool stateless_reset_of_a_peer(ByteView datagram, const UdpEndpoint& from,
                                 std::set<std::uint64_t>& touched) {
    for (auto& [id, l] : links) {
      if (l.conn->is_closed() || !same_address(l.conn->destination().storage, from.storage)) {
        continue;
      }
      if (l.conn->receive_unrouted(datagram, now())) {
        touched.insert(id);
        return true;
      }
    }
    return false;
  }

  // A short-header packet for a connection we do not know (a run of this node before a restart
  // had it): answer with a stateless reset, so the peer drops it now instead of at its idle
  // timeout. Rate-limited; each reset is shorter than its trigger, so resets cannot ping-pong.
  void answer_unknown(ByteView datagram, const UdpEndpoint& from) {
    const Instant t = now();
    if (t - reset_window >= std::chrono::seconds(1)) {
      reset_window = t;
      resets_in_window = 0;
    }
    if (resets_in_window >= kResetsPerSecond) return;
    std::array<std::uint8_t, 64> reset{};
    const std::size_t n = write_stateless_reset(reset, reset_key, datagram, rng);
    if (n == 0) return;
    ++resets_in_window;
    ++io.stateless_resets_sent;
    send_batch(reset.data(), n, n, from);
  }

  std::uint64_t add_link(std::unique_ptr<Connection> conn, bool outgoing, const PeerId& dialled) {
    const std::uint64_t id = next_id++;
    Link& l = links[id];
    l.conn = std::move(conn);
    l.timer = std::make_unique<asio::steady_timer>(runtime::asio_context(loop));
    l.outgoing = outgoing;
    l.dialled = dialled;
    l.last_activity = now();
    l.created = now();
    for (Bytes& cid : l.conn->local_cids()) by_cid[cid] = id;
    return id;
  }

  // Sends `len` bytes of back-to-back datagrams of `segment` bytes. False: socket full.
  bool send_batch(const std::uint8_t* data, std::size_t len, std::size_t segment,
                  const UdpEndpoint& to) {
    const int fd = socket->native_handle();
    bool retried = false;
    while (len > 0) {
      const bool gso = io.gso && len > segment;
      const std::size_t chunk = gso ? len : std::min(len, segment);
      iovec iov{const_cast<std::uint8_t*>(data), chunk};
      msghdr msg{};
      msg.msg_name = const_cast<sockaddr_storage*>(&to.storage);
      msg.msg_namelen = to.length;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))]{};
      if (gso) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const auto seg = static_cast<std::uint16_t>(segment);
        std::memcpy(CMSG_DATA(c), &seg, sizeof(seg));
      }
      ++io.send_calls;
      const ssize_t n = sendmsg(fd, &msg, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return false;
        if (gso && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
          io.gso = false;  // kernel or device without UDP GSO: fall back to one send per packet
          continue;
        }
        if (unreachable_text(errno) != nullptr && !retried) {
          // IP_RECVERR reports an earlier datagram's ICMP error on the next send, which is
          // then not sent. That error is read from the error queue; this send goes again.
          errors_pending = true;
          retried = true;
          continue;
        }
        ++io.send_errors;  // QUIC recovers or times out
      } else {
        io.datagrams_sent += gso ? (chunk + segment - 1) / segment : 1;
      }
      data += chunk;
      len -= chunk;
    }
    return true;
  }

  void wait_writable() {
    if (blocked_on_send) return;
    blocked_on_send = true;
    socket->async_wait(udp::socket::wait_write,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec || !self->socket) return;
                         self->blocked_on_send = false;
                         std::vector<std::uint64_t> ids;
                         for (auto& [id, l] : self->links) ids.push_back(id);
                         for (std::uint64_t id : ids) self->flush(id);
                       });
  }

  // ---- connection driving ------------------------------------------------------------------

  void post_flush(std::uint64_t id) {
    auto it = links.find(id);
    if (it == links.end() || it->second.flush_posted) return;
    it->second.flush_posted = true;
    loop.post([weak = weak_from_this(), id] {
      auto self = weak.lock();
      if (!self) return;
      auto l = self->links.find(id);
      if (l == self->links.end()) return;
      l->second.flush_posted = false;
      self->flush(id);
    });
  }

  // Delivers events, writes what the connection has to send, re-arms its timer, and removes it
  // once finished. User callbacks may re-enter the transport, so the link is looked up again
  // after each of them.
  void flush(std::uint64_t id) {
    if (!socket) return;
    // Timers already due are handled here rather than through an Asio timer: every timer
    // (re)arm or expiry costs a timerfd_settime syscall, which showed as ~20% of a transfer.
    for (int round = 0; round < 4; ++round) {
      drain_events(id);
      auto it = links.find(id);
      if (it == links.end()) return;
      if (Link& d = it->second;
          d.draining && d.outgoing && !d.conn->is_closed() && d.conn->stats().bytes_queued == 0) {
        d.conn->close(0, "duplicate connection", now());  // all we sent on it is acknowledged
      }
      std::size_t batches = 0;
      while (!blocked_on_send) {
        Link& l = it->second;
        std::size_t segment = 0;
        const std::size_t n = l.conn->write_datagrams(send_buf, segment, kMaxSegments, now());
        if (n == 0) break;
        if (!send_batch(send_buf.data(), n, segment, l.conn->destination())) {
          wait_writable();  // the packets are lost; QUIC recovery resends their data
          break;
        }
        if (++batches == kBatchesPerFlush) {
          post_flush(id);  // let reads and other connections run
          break;
        }
      }
      drain_events(id);
      it = links.find(id);
      if (it == links.end()) return;
      Link& l = it->second;
      if (l.conn->is_finished()) {
        remove_link(id);
        return;
      }
      const auto when = l.conn->expiry();
      if (round == 3 || !when || *when > now()) break;
      l.conn->handle_timeout(now());
    }
    auto it = links.find(id);
    if (it != links.end()) arm_timer(id, it->second);
  }

  void arm_timer(std::uint64_t id, Link& l) {
    const auto when = l.conn->expiry();
    if (!when) {
      if (l.armed) l.timer->cancel();
      l.armed = false;
      return;
    }
    // Re-arming costs a timerfd_settime syscall (it showed as 20% of a bulk transfer), and the
    // expiry moves on nearly every packet. A timer already due no later stays: if it fires
    // early, handle_timeout() does nothing and the timer is armed again.
    if (l.armed && l.armed_for <= *when) return;
    l.armed = true;
    l.armed_for = *when;
    l.timer->expires_at(*when);
    l.timer->async_wait([weak = weak_from_this(), id](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      auto it = self->links.find(id);
      if (it == self->links.end()) return;
      it->second.armed = false;
      it->second.conn->handle_timeout(self->now());
      self->flush(id);
    });
  }

  void remove_link(std::uint64_t id) {
    auto it = links.find(id);
    if (it == links.end()) return;
    for (const Bytes& cid : it->second.conn->local_cids()) {
      auto c = by_cid.find(cid);
      if (c != by_cid.end() && c->second == id) by_cid.erase(c);
    }
    std::erase_if(by_peer, [id](const auto& kv) { return kv.second == id; });
    std::erase_if(connecting, [id](const auto& kv) { return kv.second == id; });
    for (auto& [alpn, s] : served) {
      std::erase_if(s.by_peer, [id](const auto& kv) { return kv.second == id; });
    }
    links.erase(it);
  }

  void drain_events(std::uint64_t id) {
    for (;;) {
      auto it = links.find(id);
      if (it == links.end()) return;
      auto e = it->second.conn->poll_event();
      if (!e) return;
      handle_event(id, it->second, std::move(*e));
    }
  }

  void handle_event(std::uint64_t id, Link& l, ConnectionEvent e) {
    const PeerId peer = l.conn->peer_id();
    if (!l.served.empty()) return handle_served_event(id, l, std::move(e));
    switch (e.type) {
      case ConnectionEventType::kCidIssued:
        by_cid[e.data] = id;
        return;
      case ConnectionEventType::kCidRetired:
        if (auto c = by_cid.find(e.data); c != by_cid.end() && c->second == id) by_cid.erase(c);
        return;
      case ConnectionEventType::kConnected:
        on_established(id, l);
        return;
      case ConnectionEventType::kMessage:
      case ConnectionEventType::kDatagram:
        if (l.silent) return;
        if (l.draining || (l.reported && !draining_link(peer, id))) {
          deliver(peer, std::move(e));
        } else {
          l.pending.push_back(std::move(e));
        }
        return;
      case ConnectionEventType::kWritable:
        if (l.reported && events.on_writable) events.on_writable(peer);
        return;
      case ConnectionEventType::kClosed:
        on_closed(id, l, e.reason, e.detail);
        return;
    }
  }

  void deliver(const PeerId& peer, ConnectionEvent e) {
    if (e.type == ConnectionEventType::kMessage) {
      if (events.on_message) events.on_message(peer, e.channel, std::move(e.data));
    } else if (events.on_datagram) {
      events.on_datagram(peer, std::move(e.data));
    }
  }

  // A losing duplicate of `peer` still open (other than `except`): what it carries goes first.
  bool draining_link(const PeerId& peer, std::uint64_t except) const {
    if (draining_count == 0) return false;
    for (const auto& [other, l] : links) {
      if (other != except && l.draining && !l.conn->is_closed() && l.conn->peer_id() == peer) {
        return true;
      }
    }
    return false;
  }

  // Delivers what waited for `peer` to be reported: a closed held duplicate's messages, then
  // those of the link `id`, unless a draining duplicate must deliver first. Callbacks may
  // re-enter the transport.
  void deliver_pending(const PeerId& peer, std::uint64_t id) {
    if (auto o = orphaned.find(peer); o != orphaned.end()) {
      std::vector<ConnectionEvent> earlier = std::move(o->second);
      orphaned.erase(o);
      for (ConnectionEvent& e : earlier) deliver(peer, std::move(e));
    }
    for (int i = 0; i < 16; ++i) {  // bounded: a callback may add to `pending` meanwhile
      auto it = links.find(id);
      if (it == links.end() || !it->second.reported || it->second.pending.empty() ||
          draining_link(peer, id)) {
        return;
      }
      std::vector<ConnectionEvent> batch = std::move(it->second.pending);
      it->second.pending.clear();
      for (ConnectionEvent& e : batch) deliver(peer, std::move(e));
    }
  }

  // Reports `id` as the peer's connection: on_connected, then the messages that waited for it.
  // `since`: when the peer became connected, if it already was through another connection.
  void report(std::uint64_t id, const PeerId& peer, bool announce,
              std::optional<Instant> since = std::nullopt) {
    Link& l = links.at(id);
    by_peer[peer] = id;
    l.reported = true;
    l.held = false;
    l.established = since.value_or(now());
    if (announce && events.on_connected) events.on_connected(peer);
    deliver_pending(peer, id);
  }

  std::optional<std::uint64_t> held_link(const PeerId& peer) const {
    for (const auto& [other, l] : links) {
      if (l.held && !l.conn->is_closed() && l.conn->peer_id() == peer) return other;
    }
    return std::nullopt;
  }

  // `loser` lost a simultaneous dial to the peer's reported connection. Its dialler closes it
  // at once if nothing was sent on it, else once all it sent is acknowledged; the accepting
  // side keeps delivering what arrives on it until then (see docs/quic.md).
  void retire(std::uint64_t loser_id) {
    Link& loser = links.at(loser_id);
    if (loser.outgoing && !loser.reported) {
      loser.silent = true;  // never reported: we sent nothing on it
      loser.conn->close(0, "duplicate connection", now());
    } else {
      loser.draining = true;
      ++draining_count;
      loser.reported = false;
      loser.held = false;
    }
    post_flush(loser_id);
  }

  // A connection on a served ALPN: its events go to that protocol's handler only.
  void handle_served_event(std::uint64_t id, Link& l, ConnectionEvent e) {
    auto s = served.find(l.served);
    if (s == served.end()) return;
    const PeerId peer = l.conn->peer_id();
    const TransportEvents& ev = s->second.events;
    switch (e.type) {
      case ConnectionEventType::kCidIssued:
        by_cid[e.data] = id;
        return;
      case ConnectionEventType::kCidRetired:
        if (auto c = by_cid.find(e.data); c != by_cid.end() && c->second == id) by_cid.erase(c);
        return;
      case ConnectionEventType::kConnected:
        return;  // reported when the link was marked served
      case ConnectionEventType::kMessage:
        if (ev.on_message) ev.on_message(peer, e.channel, std::move(e.data));
        return;
      case ConnectionEventType::kDatagram:
        if (ev.on_datagram) ev.on_datagram(peer, std::move(e.data));
        return;
      case ConnectionEventType::kWritable:
        if (ev.on_writable) ev.on_writable(peer);
        return;
      case ConnectionEventType::kClosed:
        if (auto it = s->second.by_peer.find(peer);
            it != s->second.by_peer.end() && it->second == id) {
          s->second.by_peer.erase(it);
          if (!l.silent && ev.on_disconnected) ev.on_disconnected(peer, e.reason, e.detail);
        }
        return;
    }
  }

  void on_established(std::uint64_t id, Link& l) {
    const PeerId peer = l.conn->peer_id();
    if (!l.outgoing) {
      if (auto s = served.find(l.conn->alpn()); s != served.end()) {
        // One served connection per peer: a newer one replaces the older.
        l.served = s->first;
        if (auto old = s->second.by_peer.find(peer); old != s->second.by_peer.end()) {
          Link& o = links.at(old->second);
          o.silent = true;
          o.conn->close(0, "superseded by a new connection", now());
          post_flush(old->second);
        }
        s->second.by_peer[peer] = id;
        if (s->second.events.on_connected) s->second.events.on_connected(peer);
        return;
      }
    }
    if (l.outgoing) connecting.erase(l.dialled);
    const auto existing = by_peer.find(peer);
    const bool redial = existing != by_peer.end() && existing->second != id &&
                        (links.at(existing->second).outgoing == l.outgoing ||
                         links.at(existing->second).established + kDialRaceWindow < l.created);
    const PeerId& self_id = tls->peer_id();
    if (redial) {
      // Not a simultaneous dial (both connections dialled by the same side, or the new one begun
      // long after the old one was up) but a peer that dialled again: it restarted, or gave up
      // on the old connection without our noticing. The new connection replaces the old one,
      // which is reported as ended first.
      const std::uint64_t old_id = existing->second;
      Link& old = links.at(old_id);
      old.silent = true;
      old.conn->close(0, "superseded by a new connection", now());
      post_flush(old_id);
      by_peer.erase(existing);
      if (events.on_disconnected) {
        events.on_disconnected(peer, DisconnectReason::kRemoteClosed,
                               "peer opened a new connection (it restarted or lost the old one)");
      }
      auto again = links.find(id);  // the callback may have re-entered the transport
      if (again == links.end() || again->second.conn->is_closed() || by_peer.count(peer)) return;
      report(id, peer, true);
      return;
    }
    if (existing != by_peer.end() && existing->second != id) {
      // Both sides dialled at once. Both keep the connection dialled by the smaller peer id.
      const PeerId new_client = l.outgoing ? self_id : peer;
      const std::uint64_t old_id = existing->second;
      if (new_client == std::min(self_id, peer)) {
        const Instant since = links.at(old_id).established;
        retire(old_id);
        report(id, peer, false, since);  // inherits the peer's "connected" state
      } else {
        retire(id);
      }
      return;
    }
    if (!l.outgoing && self_id < peer && connecting.count(peer)) {
      // Our own dial to this peer is under way and would win if both complete: wait for it
      // rather than report a connection that may be closed as the duplicate. A dial still not
      // through after the race window (a stale address, a lost Initial) stops the wait: the held
      // connection is reported, and a later win of our dial makes it drain.
      l.held = true;
      loop.call_after(kDialRaceWindow, [weak = weak_from_this(), id, peer] {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->links.find(id);
        if (it == self->links.end() || !it->second.held || it->second.conn->is_closed()) return;
        if (self->by_peer.count(peer)) return;
        self->report(id, peer, true);
      });
      return;
    }
    const auto held = l.outgoing ? held_link(peer) : std::nullopt;
    if (l.inherit) {  // the peer never went away: it moved over from a duplicate
      report(id, peer, false);
    } else {
      report(id, peer, true);
    }
    if (held && links.count(*held)) {
      // Our dial won; the peer's dial, held so far, delivers what was sent on it, then drains.
      Link& h = links.at(*held);
      std::vector<ConnectionEvent> earlier = std::move(h.pending);
      h.pending.clear();
      h.held = false;
      h.draining = true;
      ++draining_count;
      for (ConnectionEvent& e : earlier) deliver(peer, std::move(e));
      post_flush(*held);
    }
  }

  // Another live connection to `peer`, if any (e.g. the other half of a simultaneous dial).
  std::optional<std::uint64_t> other_link(const PeerId& peer, std::uint64_t id) const {
    for (const auto& [other, l] : links) {
      if (other == id || l.silent || l.draining || !l.served.empty() || l.conn->is_closed()) {
        continue;
      }
      if (l.conn->peer_id() == peer || (l.outgoing && l.dialled == peer)) return other;
    }
    return std::nullopt;
  }

  void on_closed(std::uint64_t id, Link& l, DisconnectReason reason, const std::string& detail) {
    if (l.silent) return;
    if (l.draining) {
      // The duplicate is gone: what arrived on the winner meanwhile follows now. If messages
      // we sent on the duplicate were not all acknowledged, the peer may have missed some:
      // the application is told the link was broken and is connected again.
      const PeerId peer = l.conn->peer_id();
      l.draining = false;
      --draining_count;
      const std::uint64_t unacked = l.conn->stats().bytes_queued;
      const auto winner = by_peer.find(peer);
      if (winner == by_peer.end()) return;
      const std::uint64_t winner_id = winner->second;
      if (unacked > 0) {
        if (events.on_disconnected) {
          events.on_disconnected(peer, reason,
                                 std::to_string(unacked) +
                                     " bytes sent on a duplicate connection were not acknowledged "
                                     "before it closed (" +
                                     detail + ")");
        }
        if (!by_peer.count(peer) || by_peer.at(peer) != winner_id) return;
        if (events.on_connected) events.on_connected(peer);
      }
      deliver_pending(peer, winner_id);
      return;
    }
    if (l.held) {
      // The peer closed its dial before ours was confirmed: keep what it sent on it.
      const PeerId peer = l.conn->peer_id();
      l.held = false;
      auto& keep = orphaned[peer];
      for (ConnectionEvent& e : l.pending) keep.push_back(std::move(e));
      l.pending.clear();
      return;
    }
    if (l.reported || l.inherit) {
      const PeerId peer = l.conn->peer_id().empty() ? l.dialled : l.conn->peer_id();
      if (auto it = by_peer.find(peer); it != by_peer.end() && it->second == id) by_peer.erase(it);
      l.reported = false;
      if (connecting.count(peer) && connecting[peer] == id) connecting.erase(peer);
      // The peer closed this one as the duplicate of a simultaneous dial: hand over quietly.
      if (auto other = other_link(peer, id)) {
        Link& o = links.at(*other);
        o.inherit = true;
        if (o.conn->is_established()) {
          report(*other, peer, false, l.established);
        }
        return;
      }
      orphaned.erase(peer);
      if (events.on_disconnected) events.on_disconnected(peer, reason, detail);
    } else if (l.outgoing) {
      const PeerId peer = l.dialled;
      if (auto c = connecting.find(peer); c != connecting.end() && c->second == id) {
        connecting.erase(c);
      }
      // A dial that lost to a simultaneous dial from the peer: the peer is connected through
      // the other connection, so this one's end is no disconnect.
      if (by_peer.count(peer)) return;
      // Our dial failed while the peer's own dial waited for it: that one is the connection.
      if (auto held = held_link(peer)) {
        report(*held, peer, true);
        return;
      }
      orphaned.erase(peer);
      if (events.on_disconnected) events.on_disconnected(peer, reason, detail);
    }
    // Accepted connections that never authenticated are not peers: nothing to report.
  }

  // ---- API -----------------------------------------------------------------------------------

  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses, std::string alpn) {
    auto fail = [&](DisconnectReason r, const std::string& why) {
      loop.post([weak = weak_from_this(), peer, r, why] {
        auto self = weak.lock();
        if (self && self->events.on_disconnected) self->events.on_disconnected(peer, r, why);
      });
    };
    if (!socket) return fail(DisconnectReason::kNetworkError, "transport not started");
    if (connecting.count(peer)) return;  // the outcome of the dial under way will be reported
    if (by_peer.count(peer)) {           // already connected: that is the outcome
      loop.post([weak = weak_from_this(), peer] {
        auto self = weak.lock();
        if (self && self->by_peer.count(peer) && self->events.on_connected) {
          self->events.on_connected(peer);
        }
      });
      return;
    }
    std::optional<udp::endpoint> target;
    for (const PeerAddress& a : addresses) {
      boost::system::error_code ec;
      const auto ip = asio::ip::make_address(a.host, ec);
      if (ec || ip.is_v4() != socket->local_endpoint(ec).address().is_v4()) continue;
      target = udp::endpoint(ip, a.port);
      break;
    }
    if (!target) return fail(DisconnectReason::kNetworkError, "no usable address for " + peer);
    ConnectionOptions o = options_for({std::move(alpn)});
    o.expected_peer = peer;
    if (auto pin = config.pinned_keys.find(peer); pin != config.pinned_keys.end()) {
      o.expected_public_key = pin->second;
    }
    const UdpEndpoint remote = to_udp_endpoint(*target);
    auto conn = Connection::connect(std::move(o), local, remote, rng, now());
    if (!conn) return fail(DisconnectReason::kNetworkError, conn.error().to_string());
    const std::uint64_t id = add_link(std::move(conn).value(), true, peer);
    connecting[peer] = id;
    flush(id);
  }

  void disconnect(const PeerId& peer) {
    orphaned.erase(peer);
    if (auto held = held_link(peer)) {  // the peer's dial, waiting for ours: not wanted either
      Link& h = links.at(*held);
      h.silent = true;
      h.conn->close(0, "disconnect", now());
      post_flush(*held);
    }
    std::uint64_t id = 0;
    if (auto it = by_peer.find(peer); it != by_peer.end()) {
      id = it->second;
    } else if (auto c = connecting.find(peer); c != connecting.end()) {
      id = c->second;
    } else {
      return;
    }
    links.at(id).conn->close(0, "disconnect", now());
    flush(id);
  }

  // Every connection says goodbye before the socket goes: a CONNECTION_CLOSE for each one still
  // open, or still owing its close (a full socket may have held it back), sent now. There is no
  // closing period after stop(): the socket is released at once. A peer whose close got lost
  // learns from the ICMP port-unreachable its next packet draws.
  void stop() {
    if (!socket) return;
    const auto give_up = std::chrono::steady_clock::now() + kStopFlushLimit;
    for (auto& [id, l] : links) {
      if (!l.conn->is_closed()) l.conn->close(0, "shutdown", now());
      std::size_t segment = 0;
      const std::size_t n = l.conn->write_datagrams(send_buf, segment, 1, now());
      if (n == 0) continue;
      // A socket full of stream data would drop the close: wait (bounded) until it takes it.
      while (!send_batch(send_buf.data(), n, segment, l.conn->destination())) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            give_up - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{socket->native_handle(), POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      }
    }
    links.clear();
    by_cid.clear();
    by_peer.clear();
    connecting.clear();
    orphaned.clear();
    draining_count = 0;
    for (auto& [alpn, s] : served) s.by_peer.clear();
    boost::system::error_code ec;
    socket->close(ec);
    socket.reset();
  }

  Status send(const PeerId& peer, Channel channel, ByteView message, bool ordered) {
    auto it = by_peer.find(peer);
    if (it == by_peer.end()) return make_error("NOT_CONNECTED", "not connected to " + peer);
    PEAT_TRY_STATUS(links.at(it->second).conn->send(channel, message, ordered));
    post_flush(it->second);
    return {};
  }

  Status send_datagram(const PeerId& peer, ByteView datagram) {
    auto it = by_peer.find(peer);
    if (it == by_peer.end()) return make_error("NOT_CONNECTED", "not connected to " + peer);
    PEAT_TRY_STATUS(links.at(it->second).conn->send_datagram(datagram));
    post_flush(it->second);
    return {};
  }

  Status send_served(std::string_view alpn, const PeerId& peer, Channel channel, ByteView message) {
    auto s = served.find(alpn);
    if (s == served.end()) return make_error("NOT_SERVED", std::string(alpn) + " is not served");
    auto it = s->second.by_peer.find(peer);
    if (it == s->second.by_peer.end()) {
      return make_error("NOT_CONNECTED", "no " + std::string(alpn) + " connection from " + peer);
    }
    PEAT_TRY_STATUS(links.at(it->second).conn->send(channel, message, true));
    post_flush(it->second);
    return {};
  }

  std::optional<ConnectionHealth> health(const PeerId& peer) const {
    auto it = by_peer.find(peer);
    if (it == by_peer.end()) return std::nullopt;
    const Link& l = links.at(it->second);
    const ConnectionStats s = l.conn->stats();
    ConnectionHealth h;
    h.rtt_ms = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(s.smoothed_rtt).count());
    h.rtt_variance_ms = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(s.rtt_variance).count());
    h.packet_loss_percent = s.packets_sent == 0 ? 0
                                                : static_cast<std::uint8_t>(std::min<std::uint64_t>(
                                                      100, s.packets_lost * 100 / s.packets_sent));
    // Consecutive probe timeouts mean the peer has stopped answering.
    if (s.pto_count >= 4) {
      h.state = ConnectionState::kDead;
    } else if (s.pto_count >= 2) {
      h.state = ConnectionState::kSuspect;
    } else if (h.rtt_ms > 1000 || h.packet_loss_percent > 10) {
      h.state = ConnectionState::kDegraded;
    } else {
      h.state = ConnectionState::kHealthy;
    }
    h.last_activity = l.last_activity;
    return h;
  }
};

QuicTransport::QuicTransport(runtime::IoLoop& loop, QuicTransportConfig config, Rng& rng)
    : impl_(std::make_shared<Impl>(loop, std::move(config), rng)) {}

QuicTransport::~QuicTransport() {
  impl_->stop();
}

const Capabilities& QuicTransport::capabilities() const {
  return impl_->caps;
}
void QuicTransport::set_events(TransportEvents events) {
  impl_->events = std::move(events);
}
Status QuicTransport::start() {
  return impl_->start();
}
void QuicTransport::stop() {
  impl_->stop();
}

void QuicTransport::connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) {
  impl_->connect(peer, addresses, impl_->config.connect_alpn);
}
void QuicTransport::connect(const PeerId& peer, const std::vector<PeerAddress>& addresses,
                            std::string_view alpn) {
  impl_->connect(peer, addresses, std::string(alpn));
}
void QuicTransport::disconnect(const PeerId& peer) {
  impl_->disconnect(peer);
}

bool QuicTransport::is_connected(const PeerId& peer) const {
  return impl_->by_peer.count(peer) > 0;
}

std::vector<PeerId> QuicTransport::connected_peers() const {
  std::vector<PeerId> out;
  for (const auto& [peer, id] : impl_->by_peer) out.push_back(peer);
  return out;
}

Status QuicTransport::send(const PeerId& peer, Channel channel, ByteView message) {
  return impl_->send(peer, channel, message, true);
}
Status QuicTransport::send_unordered(const PeerId& peer, Channel channel, ByteView message) {
  return impl_->send(peer, channel, message, false);
}
Status QuicTransport::send_datagram(const PeerId& peer, ByteView datagram) {
  return impl_->send_datagram(peer, datagram);
}
std::optional<ConnectionHealth> QuicTransport::health(const PeerId& peer) const {
  return impl_->health(peer);
}

const PeerId& QuicTransport::local_peer_id() const {
  static const PeerId kNone;
  return impl_->tls ? impl_->tls->peer_id() : kNone;
}

std::optional<std::uint16_t> QuicTransport::local_port() const {
  if (!impl_->socket) return std::nullopt;
  boost::system::error_code ec;
  const auto ep = impl_->socket->local_endpoint(ec);
  if (ec) return std::nullopt;
  return ep.port();
}

Status QuicTransport::rebind(std::uint16_t port) {
  return impl_->rebind(port);
}

void QuicTransport::serve(std::string alpn, AdmitFn admit, TransportEvents events) {
  auto& s = impl_->served[std::move(alpn)];
  s.admit = std::move(admit);
  s.events = std::move(events);
}

Status QuicTransport::send_served(std::string_view alpn, const PeerId& peer, Channel channel,
                                  ByteView message) {
  return impl_->send_served(alpn, peer, channel, message);
}

QuicIoStats QuicTransport::io_stats() const {
  return impl_->io;
}

}  // namespace peat::transport::quic
