// Feeds arbitrary bytes to a negentropy responder and to an initiator mid-session.
#include <cstddef>
#include <cstdint>

#include "peat/common/random.hpp"
#include "peat/sync/negentropy.hpp"

namespace {

const peat::sync::NegVector& storage() {
  static const peat::sync::NegVector v = [] {
    peat::SeededRng rng(1);
    std::vector<peat::sync::NegItem> items;
    for (int i = 0; i < 200; ++i) {
      peat::sync::NegItem it;
      it.timestamp = 1000 + rng.uniform(50);
      rng.fill(it.id);
      items.push_back(it);
    }
    return std::move(peat::sync::NegVector::build(std::move(items)).value());
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peat::ByteView input(data, size);
  {
    auto responder = peat::sync::Negentropy::create(storage());
    (void)responder->respond(input);
  }
  {
    auto limited = peat::sync::Negentropy::create(storage(), 4096);
    (void)limited->respond(input);
  }
  {
    auto initiator = peat::sync::Negentropy::create(storage());
    (void)initiator->initiate();
    std::vector<peat::sync::NegId> have;
    std::vector<peat::sync::NegId> need;
    (void)initiator->reconcile(input, have, need);
  }
  return 0;
}
