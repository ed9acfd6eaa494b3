// mDNS packets: decode must never crash or hang; whatever decodes must re-encode and decode to
// the same records; the browser and responder must digest it.
#include <cstdint>
#include <cstdlib>

#include "peat/common/random.hpp"
#include "peat/discovery/dns_message.hpp"
#include "peat/discovery/mdns_browser.hpp"
#include "peat/discovery/mdns_responder.hpp"

using namespace peat::discovery;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = dns::decode_dns_message(peat::ByteView(data, size));
  if (!m) return 0;
  auto bytes = dns::encode_dns_message(*m);
  if (!bytes) std::abort();
  auto again = dns::decode_dns_message(*bytes);
  if (!again || again->answers.size() != m->answers.size() ||
      again->questions.size() != m->questions.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < m->answers.size(); ++i) {
    if (!again->answers[i].same_record(m->answers[i])) std::abort();
  }

  static peat::SeededRng rng(1);
  const peat::Instant now{};
  mdns::MdnsBrowser browser(*dns::Name::parse("_peat._udp.local."), rng);
  browser.start(now);
  browser.on_message(*m, now);
  (void)browser.poll(now + std::chrono::seconds(5000));
  (void)browser.take_events();

  mdns::ServiceAdvert advert;
  advert.service_type = *dns::Name::parse("_peat._udp.local.");
  advert.instance = "peat-n1";
  advert.host = *dns::Name::parse("n1.local.");
  advert.port = 5000;
  advert.txt = {{"node_id", "n1"}};
  advert.ipv4 = {dns::AData{10, 0, 0, 1}};
  mdns::MdnsResponder responder(advert);
  responder.start(now);
  responder.on_message(*m, SocketAddress{"10.0.0.2", 5353}, now);
  (void)responder.poll(now);
  return 0;
}
