#include "peat/lite/udp_port.hpp"

#include <boost/asio/ip/udp.hpp>
#include <memory>

#include "runtime/asio.hpp"

namespace peat::lite {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Shared with the pending receive handler, so closing never leaves it pointing at freed memory.
struct SocketState {
  explicit SocketState(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  udp::endpoint from;
  std::array<std::uint8_t, 2048> buffer{};
  DatagramPort::Receiver receiver;
  bool open = false;
};

void receive_loop(const std::shared_ptr<SocketState>& state) {
  state->socket.async_receive_from(
      asio::buffer(state->buffer), state->from,
      [state](const boost::system::error_code& ec, std::size_t n) {
        if (!state->open) return;
        if (!ec) {
          PeerAddress from{state->from.address().to_string(), state->from.port()};
          auto receiver = state->receiver;  // may close the port from inside
          receiver(from, ByteView(state->buffer.data(), n));
          if (!state->open) return;
        } else if (ec == asio::error::operation_aborted) {
          return;
        }
        receive_loop(state);
      });
}

class UdpPort final : public DatagramPort {
 public:
  UdpPort(runtime::IoLoop& loop, UdpPortConfig config)
      : io_(runtime::asio_context(loop)), config_(std::move(config)) {}
  ~UdpPort() override { close(); }

  Status open(Receiver receiver) override {
    if (state_ && state_->open) return {};
    auto state = std::make_shared<SocketState>(io_);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(config_.bind_address, ec);
    if (!ec) {
      udp::endpoint ep(address, config_.port);
      state->socket.open(ep.protocol(), ec);
      if (!ec && config_.reuse_address)
        state->socket.set_option(udp::socket::reuse_address(true), ec);
      if (!ec && config_.broadcast)
        state->socket.set_option(asio::socket_base::broadcast(true), ec);
      if (!ec) state->socket.bind(ep, ec);
    }
    if (ec) {
      return make_error("BIND_FAILED", "cannot bind UDP " + config_.bind_address + ":" +
                                           std::to_string(config_.port) + ": " + ec.message());
    }
    state->receiver = std::move(receiver);
    state->open = true;
    state_ = state;
    receive_loop(state_);
    return {};
  }

  void close() override {
    if (!state_) return;
    state_->open = false;
    boost::system::error_code ec;
    state_->socket.close(ec);
    state_.reset();
  }

  Status send_to(const PeerAddress& to, ByteView datagram) override {
    if (!state_ || !state_->open) return make_error("NOT_STARTED", "UDP port is not open");
    boost::system::error_code ec;
    auto address = asio::ip::make_address(to.host, ec);
    if (!ec)
      state_->socket.send_to(asio::buffer(datagram.data(), datagram.size()),
                             udp::endpoint(address, to.port), 0, ec);
    if (ec) return make_error("SEND_FAILED", "send to " + to.to_string() + ": " + ec.message());
    return {};
  }

  PeerAddress local_address() const override {
    if (!state_) return {};
    boost::system::error_code ec;
    auto ep = state_->socket.local_endpoint(ec);
    if (ec) return {};
    return {ep.address().to_string(), ep.port()};
  }

 private:
  asio::io_context& io_;
  UdpPortConfig config_;
  std::shared_ptr<SocketState> state_;
};

}  // namespace

std::unique_ptr<DatagramPort> make_udp_port(runtime::IoLoop& loop, UdpPortConfig config) {
  return std::make_unique<UdpPort>(loop, std::move(config));
}

}  // namespace peat::lite
