#include "peat/transport/transport.hpp"

namespace peat::transport {

const char* to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kRemoteClosed:
      return "remote closed";
    case DisconnectReason::kTimeout:
      return "timeout";
    case DisconnectReason::kNetworkError:
      return "network error";
    case DisconnectReason::kLocalClosed:
      return "local closed";
    case DisconnectReason::kIdleTimeout:
      return "idle timeout";
    case DisconnectReason::kApplicationError:
      return "application error";
    case DisconnectReason::kAuthenticationFailed:
      return "authentication failed";
    case DisconnectReason::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace peat::transport
