// QUIC transport figures on loopback next to raw UDP measured in the same run:
//   bulk throughput (1 ordered stream, 16 concurrent streams) vs a raw UDP GSO/GRO blast,
//   handshake latency (median), message and datagram round trip vs a raw UDP ping-pong.
// Sender and receiver run on two threads, each with its own IoLoop (or socket), like two nodes.
// Usage: bench_quic [MiB per bulk run, default 256] [runs, default 3] [message KiB, default 64]
//                   [only: "1", "16" or "u" (a stream per message) runs just that QUIC bulk
//                    transfer, e.g. under perf]
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/quic_transport.hpp"

namespace {

using namespace peat;
using namespace peat::transport;
using namespace peat::transport::quic;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// CPU time of the calling thread (user + system), in seconds.
double thread_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A bulk result: wall-clock throughput, and the throughput the busier side's CPU time allows
// (what the run would reach with a core per side to itself; this machine is shared).
struct Bulk {
  double wall_mbps = -1;
  double cpu_mbps = -1;
  double sender_cpu_s = 0;
  double receiver_cpu_s = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Identity make_identity(std::uint8_t tag) {
  Identity id;
  id.seed.fill(tag);
  std::array<std::uint8_t, 64> secret{};
  if (crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data()) != 0)
    std::abort();
  return id;
}

// A transport on its own loop; the loop runs on the calling thread or on a thread of its own.
struct Node {
  runtime::IoLoop loop;
  SeededRng rng;
  std::unique_ptr<QuicTransport> transport;

  explicit Node(std::uint8_t tag, std::size_t send_queue_limit = 0) : rng(tag) {
    QuicTransportConfig config;
    config.identity = make_identity(tag);
    config.bind_host = "127.0.0.1";
    if (send_queue_limit > 0) config.settings.send_queue_limit = send_queue_limit;
    transport = std::make_unique<QuicTransport>(loop, std::move(config), rng);
    if (!transport->start().ok()) std::abort();
  }
  std::vector<PeerAddress> address() const { return {{"127.0.0.1", *transport->local_port()}}; }
};

// Runs `node`'s loop on a background thread until `stop` is set.
struct LoopThread {
  std::atomic<bool> stop{false};
  std::thread thread;
  explicit LoopThread(Node& node) {
    thread = std::thread([this, &node] {
      while (!stop.load()) node.loop.run_until([this] { return stop.load(); }, 1s);
    });
  }
  ~LoopThread() {
    stop = true;
    thread.join();
  }
};

// ---- QUIC ------------------------------------------------------------------------------------

double quic_handshake_ms(int iterations) {
  Node server(2);
  Node client(1);
  std::vector<double> samples;
  bool connected = false;
  bool server_closed = false;
  TransportEvents ce;
  ce.on_connected = [&](const PeerId&) { connected = true; };
  client.transport->set_events(ce);
  TransportEvents se;
  se.on_disconnected = [&](const PeerId&, DisconnectReason, const std::string&) {
    server_closed = true;
  };
  server.transport->set_events(se);
  LoopThread st(server);
  const PeerId peer = server.transport->local_peer_id();
  for (int i = 0; i < iterations; ++i) {
    connected = false;
    server_closed = false;
    const auto t0 = Clock::now();
    client.transport->connect(peer, server.address());
    client.loop.run_until([&] { return connected; }, 5s);
    const auto t1 = Clock::now();
    if (!connected) return -1;
    samples.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    client.transport->disconnect(peer);
    client.loop.run_for(2ms);
  }
  return median(samples);
}

// Sends `total` bytes client→server; returns MB/s at the receiver. Everything is queued before
// the clock starts (the send queue is sized for it), so the figure is the transport's alone.
// One stream: `message_size` messages on the ordered Blobs channel. 16 streams: 16 messages of
// total/16 bytes, each on its own stream via send_unordered(), all in flight at once.
// CPU seconds used so far by the thread running `loop` (asked through the loop itself).
double loop_cpu_seconds(runtime::IoLoop& loop) {
  std::atomic<double> out{-1};
  loop.post([&out] { out = thread_cpu_seconds(); });
  while (out.load() < 0) std::this_thread::yield();
  return out.load();
}

enum class Spread : std::uint8_t {
  kOneStream,        // message_size messages on the ordered Blobs channel
  kSixteen,          // 16 messages of total/16 bytes, each on its own stream
  kStreamPerMessage  // message_size messages, each on its own stream (up to 256 open at once)
};

Bulk quic_bulk(std::size_t total, std::size_t message_size, Spread spread) {
  const bool sixteen_streams = spread == Spread::kSixteen;
  Node server(2);
  Node client(1, total + (1 << 20));
  std::atomic<std::uint64_t> received{0};
  TransportEvents se;
  se.on_message = [&](const PeerId&, Channel, Bytes b) { received += b.size(); };
  server.transport->set_events(se);
  LoopThread st(server);
  const PeerId peer = server.transport->local_peer_id();
  bool connected = false;
  TransportEvents ce;
  ce.on_connected = [&](const PeerId&) { connected = true; };
  client.transport->set_events(ce);
  client.transport->connect(peer, server.address());
  if (!client.loop.run_until([&] { return connected; }, 5s)) return {};
  const std::size_t size = sixteen_streams ? total / 16 : message_size;
  const Bytes chunk(size, 0x5a);
  std::size_t queued = 0;
  while (queued + size <= total) {
    const Status s = spread == Spread::kOneStream
                         ? client.transport->send(peer, Channel::kBlobs, chunk)
                         : client.transport->send_unordered(peer, Channel::kBlobs, chunk);
    if (!s.ok()) return {};
    queued += size;
  }
  const double server_cpu0 = loop_cpu_seconds(server.loop);
  const double client_cpu0 = thread_cpu_seconds();
  const auto t0 = Clock::now();
  client.loop.run_until([&] { return received.load() >= queued; }, 60s);
  const auto t1 = Clock::now();
  const double client_cpu = thread_cpu_seconds() - client_cpu0;
  const double server_cpu = loop_cpu_seconds(server.loop) - server_cpu0;
  if (received.load() < queued) return {};
  const double mb = static_cast<double>(queued) / 1e6;
  return {mb / std::chrono::duration<double>(t1 - t0).count(),
          mb / std::max(client_cpu, server_cpu), client_cpu, server_cpu};
}

// Median round trip (µs) of a 64-byte message (or datagram) echoed by the server.
double quic_round_trip_us(int iterations, bool datagram) {
  Node server(2);
  Node client(1);
  TransportEvents se;
  se.on_message = [&](const PeerId& p, Channel c, Bytes b) {
    (void)server.transport->send(p, c, b);
  };
  se.on_datagram = [&](const PeerId& p, Bytes b) { (void)server.transport->send_datagram(p, b); };
  server.transport->set_events(se);
  LoopThread st(server);
  const PeerId peer = server.transport->local_peer_id();
  bool connected = false;
  int replies = 0;
  TransportEvents ce;
  ce.on_connected = [&](const PeerId&) { connected = true; };
  ce.on_message = [&](const PeerId&, Channel, Bytes) { ++replies; };
  ce.on_datagram = [&](const PeerId&, Bytes) { ++replies; };
  client.transport->set_events(ce);
  client.transport->connect(peer, server.address());
  if (!client.loop.run_until([&] { return connected; }, 5s)) return -1;
  const Bytes payload(64, 0x11);
  std::vector<double> samples;
  for (int i = 0; i < iterations; ++i) {
    const int before = replies;
    const auto t0 = Clock::now();
    const Status s = datagram ? client.transport->send_datagram(peer, payload)
                              : client.transport->send(peer, Channel::kSync, payload);
    if (!s.ok()) return -1;
    if (!client.loop.run_until([&] { return replies > before; }, 200ms)) continue;  // lost datagram
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return median(samples);
}

// ---- raw UDP -----------------------------------------------------------------------------------

int udp_socket(sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  const int buf = 8 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  return fd;
}

// The physical limit QUIC is compared with: a raw UDP blast doing the same work as the QUIC
// transfer apart from QUIC itself. Datagrams are the size QUIC uses between loopback addresses
// (QuicSettings::loopback_udp_payload), batched with GSO as QUIC batches them (one datagram per
// sendmsg at that size); the sender copies the application's bytes into its send buffer (QUIC
// encrypts them into a fresh packet), and the GRO receiver copies every payload into a 64 KiB
// message buffer (QUIC reassembles messages) and reads each message. MB/s actually received.
Bulk raw_udp_blast(std::size_t total) {
  sockaddr_in raddr{};
  sockaddr_in saddr{};
  const int rfd = udp_socket(raddr);
  const int sfd = udp_socket(saddr);
  const int on = 1;
  setsockopt(rfd, SOL_UDP, UDP_GRO, &on, sizeof(on));
  timeval tv{0, 200'000};
  setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  constexpr std::size_t kMessage = 64 * 1024;
  const std::size_t seg = QuicSettings{}.loopback_udp_payload;
  const std::size_t segs = std::max<std::size_t>(1, 65507 / seg);  // a GSO send is one datagram
  const std::size_t to_send = total - total % (seg * segs);
  std::atomic<bool> sender_done{false};
  std::uint64_t received = 0;
  std::uint64_t checksum = 0;
  Clock::time_point last{};
  double receiver_cpu = 0;
  std::thread receiver([&] {
    const double cpu0 = thread_cpu_seconds();
    std::vector<std::uint8_t> buf(65536);
    std::vector<std::uint8_t> message(kMessage);
    std::size_t have = 0;
    for (;;) {
      const ssize_t n = recv(rfd, buf.data(), buf.size(), 0);
      if (n > 0) {
        for (std::size_t off = 0; off < static_cast<std::size_t>(n);) {
          const std::size_t take = std::min(kMessage - have, static_cast<std::size_t>(n) - off);
          std::memcpy(message.data() + have, buf.data() + off, take);
          have += take;
          off += take;
          if (have == kMessage) {  // a whole message: the application reads it
            for (std::size_t i = 0; i < kMessage; i += 64) checksum += message[i];
            have = 0;
          }
        }
        received += static_cast<std::uint64_t>(n);
        last = Clock::now();
        if (received >= to_send) break;
      } else if (sender_done.load()) {
        break;  // timed out after the sender finished: the rest was dropped
      }
    }
    receiver_cpu = thread_cpu_seconds() - cpu0;
  });
  const std::vector<std::uint8_t> app(total, 0x5a);  // the application's bytes
  std::vector<std::uint8_t> data(seg * segs);
  const double sender_cpu0 = thread_cpu_seconds();
  const auto t0 = Clock::now();
  std::size_t sent = 0;
  while (sent < to_send) {
    std::memcpy(data.data(), app.data() + sent, data.size());
    iovec iov{data.data(), data.size()};
    msghdr msg{};
    msg.msg_name = &raddr;
    msg.msg_namelen = sizeof(raddr);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))]{};
    if (segs > 1) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto seg16 = static_cast<std::uint16_t>(seg);
      std::memcpy(CMSG_DATA(c), &seg16, sizeof(seg16));
    }
    if (sendmsg(sfd, &msg, 0) > 0) sent += data.size();
  }
  const double sender_cpu = thread_cpu_seconds() - sender_cpu0;
  sender_done = true;
  receiver.join();
  close(rfd);
  close(sfd);
  if (received == 0 || checksum == 0) return {};  // the bytes sent are 0x5a: a sum of 0 is wrong
  const double mb = static_cast<double>(received) / 1e6;
  return {mb / std::chrono::duration<double>(last - t0).count(),
          mb / std::max(sender_cpu, receiver_cpu), sender_cpu, receiver_cpu};
}

// Median round trip (µs) of a 64-byte datagram echoed by a thread with a blocking socket.
double raw_udp_ping_pong_us(int iterations) {
  sockaddr_in eaddr{};
  sockaddr_in caddr{};
  const int efd = udp_socket(eaddr);
  const int cfd = udp_socket(caddr);
  timeval tv{0, 200'000};
  setsockopt(efd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    std::uint8_t buf[256];
    while (!stop.load()) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          recvfrom(efd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0)
        sendto(efd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  std::uint8_t payload[64] = {};
  std::uint8_t reply[256];
  std::vector<double> samples;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    sendto(cfd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&eaddr), sizeof(eaddr));
    if (recv(cfd, reply, sizeof(reply), 0) > 0) {
      samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  stop = true;
  echo.join();
  close(efd);
  close(cfd);
  return median(samples);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::size_t message_size = (argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64) * 1024;
  const std::size_t total = mb * 1024 * 1024;
  if (sodium_init() < 0) return 1;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc > 4) {
    const std::string only = argv[4];
    const Spread spread = only == "16"  ? Spread::kSixteen
                          : only == "u" ? Spread::kStreamPerMessage
                                        : Spread::kOneStream;
    const char* name = only == "16"  ? "16 streams"
                       : only == "u" ? "a stream per message"
                                     : "1 stream";
    for (int r = 0; r < runs; ++r) {
      const Bulk b = quic_bulk(total, message_size, spread);
      std::printf(
          "QUIC %s: %.0f / %.0f MB/s wall / CPU-limited (sender / receiver CPU %.2f / %.2f s)\n",
          name, b.wall_mbps, b.cpu_mbps, b.sender_cpu_s, b.receiver_cpu_s);
    }
    return 0;
  }

  std::vector<double> raw, one, sixteen, raw_cpu, one_cpu, sixteen_cpu;
  for (int r = 0; r < runs; ++r) {
    const Bulk b0 = raw_udp_blast(total);
    const Bulk b1 = quic_bulk(total, message_size, Spread::kOneStream);
    const Bulk b16 = quic_bulk(total, message_size, Spread::kSixteen);
    raw.push_back(b0.wall_mbps);
    one.push_back(b1.wall_mbps);
    sixteen.push_back(b16.wall_mbps);
    raw_cpu.push_back(b0.cpu_mbps);
    one_cpu.push_back(b1.cpu_mbps);
    sixteen_cpu.push_back(b16.cpu_mbps);
    std::printf(
        "run %d (wall / CPU-limited MB/s; sender / receiver CPU s): raw UDP %.0f / %.0f "
        "(%.2f / %.2f), QUIC 1 stream %.0f / %.0f (%.2f / %.2f), QUIC 16 streams %.0f / %.0f "
        "(%.2f / %.2f)\n",
        r + 1, b0.wall_mbps, b0.cpu_mbps, b0.sender_cpu_s, b0.receiver_cpu_s, b1.wall_mbps,
        b1.cpu_mbps, b1.sender_cpu_s, b1.receiver_cpu_s, b16.wall_mbps, b16.cpu_mbps,
        b16.sender_cpu_s, b16.receiver_cpu_s);
  }
  const double raw_m = median(raw);
  const double one_m = median(one);
  const double sixteen_m = median(sixteen);
  const double raw_c = median(raw_cpu);
  const double one_c = median(one_cpu);
  const double sixteen_c = median(sixteen_cpu);
  const double hs = quic_handshake_ms(50);
  const double quic_msg = quic_round_trip_us(2000, false);
  const double quic_dgram = quic_round_trip_us(2000, true);
  const double raw_rtt = raw_udp_ping_pong_us(2000);

  std::printf("\nloopback, %zu MiB per bulk run in %zu KiB messages, median of %d runs\n", mb,
              message_size / 1024, runs);
  // CPU-limited: bytes / CPU seconds of the busier side, i.e. the rate with a core per side.
  std::printf("%-36s %12s %8s %15s %8s\n", "measurement", "wall", "vs raw", "CPU-limited",
              "vs raw");
  std::printf("%-36s %7.0f MB/s %8s %10.0f MB/s %8s\n", "raw UDP blast (same datagrams, GRO)",
              raw_m, "1.00", raw_c, "1.00");
  std::printf("%-36s %7.0f MB/s %8.2f %10.0f MB/s %8.2f\n", "QUIC bulk, 1 stream", one_m,
              one_m / raw_m, one_c, one_c / raw_c);
  std::printf("%-36s %7.0f MB/s %8.2f %10.0f MB/s %8.2f\n", "QUIC bulk, 16 streams", sixteen_m,
              sixteen_m / raw_m, sixteen_c, sixteen_c / raw_c);
  std::printf("%-40s %8.2f ms\n", "QUIC handshake (median of 50)", hs);
  std::printf("%-40s %8.1f us %9s\n", "raw UDP ping-pong 64 B (median)", raw_rtt, "1.00");
  std::printf("%-40s %8.1f us %9.2f\n", "QUIC message round trip 64 B", quic_msg,
              quic_msg / raw_rtt);
  std::printf("%-40s %8.1f us %9.2f\n", "QUIC datagram round trip 64 B", quic_dgram,
              quic_dgram / raw_rtt);
  return 0;
}
