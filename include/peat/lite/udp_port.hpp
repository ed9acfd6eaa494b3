// DatagramPort: the one thing the Lite bridge needs from the network. The real one is a UDP
// socket on an IoLoop (Asio stays in src/lite/udp_port.cpp); tests may supply their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/transport/transport.hpp"

namespace peat::lite {

using transport::PeerAddress;

class DatagramPort {
 public:
  using Receiver = std::function<void(const PeerAddress& from, ByteView datagram)>;
  virtual ~DatagramPort() = default;
  // Starts receiving; every datagram goes to `receiver` on the loop thread.
  virtual Status open(Receiver receiver) = 0;
  virtual void close() = 0;
  // Best effort; errors: "NOT_STARTED", "SEND_FAILED".
  virtual Status send_to(const PeerAddress& to, ByteView datagram) = 0;
  virtual PeerAddress local_address() const = 0;
};

struct UdpPortConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 5555;  // 0: any free port
  bool broadcast = true;      // SO_BROADCAST (needed to reach 255.255.255.255)
  bool reuse_address = true;
};

// A UDP socket on `loop`. open() fails with "BIND_FAILED" naming the address and the reason.
std::unique_ptr<DatagramPort> make_udp_port(runtime::IoLoop& loop, UdpPortConfig config);

}  // namespace peat::lite
