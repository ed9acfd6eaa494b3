#include "lite/udp_support.hpp"

#include <stdexcept>

namespace peat::lite::testing {
namespace {

std::unique_ptr<DatagramPort> loopback_port(runtime::IoLoop& loop) {
  return make_udp_port(
      loop, {.bind_address = "127.0.0.1", .port = 0, .broadcast = false, .reuse_address = false});
}

}  // namespace

UdpSimDevice::UdpSimDevice(runtime::IoLoop& loop, SimDeviceConfig config)
    : device_(config), port_(loopback_port(loop)) {
  auto st = port_->open([this](const PeerAddress& from, ByteView datagram) {
    received_++;
    for (const auto& reply : device_.handle(datagram)) (void)port_->send_to(from, reply);
  });
  if (!st) throw std::runtime_error(st.error().to_string());
}

void UdpSimDevice::send(const PeerAddress& to, ByteView packet) {
  (void)port_->send_to(to, packet);
}

UdpFaultProxy::UdpFaultProxy(runtime::IoLoop& loop, PeerAddress device, PeerAddress upstream,
                             std::uint64_t seed)
    : device_(std::move(device)),
      upstream_(std::move(upstream)),
      rng_(seed),
      port_(loopback_port(loop)) {
  auto st = port_->open(
      [this](const PeerAddress& from, ByteView datagram) { on_datagram(from, datagram); });
  if (!st) throw std::runtime_error(st.error().to_string());
}

void UdpFaultProxy::on_datagram(const PeerAddress& from, ByteView datagram) {
  const PeerAddress& to = from == device_ ? upstream_ : device_;
  if (blackhole_ || rng_.unit() < drop_) {
    dropped_++;
    return;
  }
  int copies = 1;
  if (rng_.unit() < duplicate_) {
    copies = 2;
    duplicated_++;
  }
  for (int i = 0; i < copies; ++i) (void)port_->send_to(to, datagram);
  forwarded_++;
}

}  // namespace peat::lite::testing
