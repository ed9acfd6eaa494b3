#include "https_client.hpp"

#include <gnutls/gnutls.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "peat/discovery/peer_info.hpp"

namespace peat::discovery::http {
namespace {

constexpr std::size_t kMaxResponse = 64u << 20;

Error fail(const std::string& what) {
  return make_error("HTTPS_ERROR", what);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<int> connect_to(const std::string& host, std::uint16_t port, Duration timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return fail("resolve " + host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect()
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    last = std::strerror(errno);
    ::close(fd);
  }
  return fail("connect " + host + ":" + port_text + ": " + last);
}

}  // namespace

Result<Response> https_get(const GetRequest& req) {
  gnutls_certificate_credentials_t cred = nullptr;
  if (gnutls_certificate_allocate_credentials(&cred) < 0) return fail("out of memory");
  std::unique_ptr<gnutls_certificate_credentials_st, decltype(&gnutls_certificate_free_credentials)>
      cred_guard(cred, gnutls_certificate_free_credentials);
  const int loaded =
      gnutls_certificate_set_x509_trust_file(cred, req.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
  if (loaded <= 0) {
    return fail("no CA certificate loaded from " + req.ca_file.string() +
                (loaded < 0 ? std::string(": ") + gnutls_strerror(loaded) : std::string()));
  }

  auto fd = connect_to(req.host, req.port, req.timeout);
  if (!fd) return fd.error();
  Fd sock{*fd};

  gnutls_session_t session = nullptr;
  if (gnutls_init(&session, GNUTLS_CLIENT) < 0) return fail("gnutls_init failed");
  std::unique_ptr<gnutls_session_int, decltype(&gnutls_deinit)> session_guard(session,
                                                                              gnutls_deinit);
  gnutls_set_default_priority(session);
  gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
  if (!is_ip_literal(req.host)) {
    gnutls_server_name_set(session, GNUTLS_NAME_DNS, req.host.data(), req.host.size());
  }
  // Verifies the chain against the CA and the certificate against host (DNS name or IP SAN).
  gnutls_session_set_verify_cert(session, req.host.c_str(), 0);
  gnutls_transport_set_int(session, sock.fd);
  gnutls_handshake_set_timeout(
      session, static_cast<unsigned>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(req.timeout).count()));
  int rc = 0;
  do {
    rc = gnutls_handshake(session);
  } while (rc < 0 && gnutls_error_is_fatal(rc) == 0 && rc != GNUTLS_E_AGAIN);
  if (rc < 0) {
    std::string why = gnutls_strerror(rc);
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
      gnutls_datum_t text{};
      const unsigned status = gnutls_session_get_verify_cert_status(session);
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        why += std::string(": ") + reinterpret_cast<const char*>(text.data);
        gnutls_free(text.data);
      }
    }
    return fail("TLS handshake with " + req.host + ": " + why);
  }

  const bool v6 = req.host.find(':') != std::string::npos;
  std::string request = "GET " + req.path + " HTTP/1.1\r\nHost: " + (v6 ? "[" : "") + req.host +
                        (v6 ? "]" : "") + ":" + std::to_string(req.port) +
                        "\r\nAccept: application/json\r\nUser-Agent: peat-mesh\r\n";
  if (!req.bearer_token.empty()) request += "Authorization: Bearer " + req.bearer_token + "\r\n";
  request += "Connection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = gnutls_record_send(session, request.data() + sent, request.size() - sent);
    if (n == GNUTLS_E_INTERRUPTED) continue;
    if (n < 0) return fail(std::string("send: ") + gnutls_strerror(static_cast<int>(n)));
    sent += static_cast<std::size_t>(n);
  }

  std::string raw;
  char buf[16384];
  // GNUTLS_E_AGAIN comes both from post-handshake messages (TLS 1.3 session tickets) and from
  // SO_RCVTIMEO expiring: retry until the overall deadline.
  const auto deadline = std::chrono::steady_clock::now() + req.timeout;
  for (;;) {
    const auto n = gnutls_record_recv(session, buf, sizeof buf);
    if (n == 0) break;
    if (n == GNUTLS_E_INTERRUPTED) continue;
    if (n == GNUTLS_E_AGAIN) {
      if (std::chrono::steady_clock::now() < deadline) continue;
      return fail("receive: timed out");
    }
    if (n == GNUTLS_E_PREMATURE_TERMINATION) break;  // closed without close_notify
    if (n < 0) return fail(std::string("receive: ") + gnutls_strerror(static_cast<int>(n)));
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > kMaxResponse) return fail("response larger than 64 MiB");
  }
  gnutls_bye(session, GNUTLS_SHUT_WR);
  return parse_response(raw);
}

}  // namespace peat::discovery::http
