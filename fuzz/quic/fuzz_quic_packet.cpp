// Outside bytes into the QUIC stack: the connection-id peek, the Initial check, the stateless
// reset answer (always shorter than its trigger), and a server connection fed the input as its
// first datagram followed by more datagrams, each also offered as a possible stateless reset.
// Input: datagram (u16 BE length ‖ bytes)*; the first one is offered as a client Initial.
#include <netinet/in.h>
#include <sodium.h>

#include <cstring>
#include <vector>

#include "peat/transport/quic/connection.hpp"

namespace {

using namespace peat;
using namespace peat::transport::quic;

UdpEndpoint endpoint(std::uint16_t port) {
  UdpEndpoint e;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::memcpy(&e.storage, &sin, sizeof(sin));
  e.length = sizeof(sin);
  return e;
}

std::shared_ptr<TlsIdentity> server_identity() {
  Identity id;
  id.seed.fill(7);
  std::array<std::uint8_t, 64> secret{};
  if (sodium_init() < 0 ||
      crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data()) != 0) {
    __builtin_trap();
  }
  return TlsIdentity::create(id).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::shared_ptr<TlsIdentity> tls = server_identity();
  std::vector<ByteView> datagrams;
  std::size_t pos = 0;
  while (pos + 2 <= size && datagrams.size() < 16) {
    const std::size_t len =
        std::min<std::size_t>((std::size_t{data[pos]} << 8) | data[pos + 1], size - pos - 2);
    datagrams.emplace_back(data + pos + 2, len);
    pos += 2 + len;
  }
  if (datagrams.empty()) datagrams.emplace_back(data, size);
  SeededRng rng(1);
  const ResetKey key{};
  std::array<std::uint8_t, 64> reset{};
  for (ByteView d : datagrams) {
    (void)destination_cid(d);
    (void)is_initial_packet(d);
    const std::size_t n = write_stateless_reset(reset, key, d, rng);
    if (n != 0 && (n >= d.size() || n > reset.size())) __builtin_trap();
  }
  const Instant now = Instant{} + std::chrono::hours(1);
  ConnectionOptions options;
  options.tls = tls;
  options.alpns = {std::string(kAlpnSync)};
  options.reset_key = key;
  auto server = Connection::accept(options, endpoint(2000), endpoint(1000), datagrams[0], rng, now);
  if (!server.ok()) return 0;
  std::vector<std::uint8_t> out(65507);
  for (std::size_t i = 1; i < datagrams.size(); ++i) {
    (void)(*server)->receive_unrouted(datagrams[i], now);
    (*server)->receive(datagrams[i], now);
    std::size_t segment = 0;
    (void)(*server)->write_datagrams(out, segment, 64, now);
    while ((*server)->poll_event()) {
    }
  }
  return 0;
}
