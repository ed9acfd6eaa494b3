#include "peat/common/sha256.hpp"

#include <nettle/sha2.h>

namespace peat {

struct Sha256::State {
  sha256_ctx ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  sha256_init(&state_->ctx);
}
Sha256::~Sha256() = default;

void Sha256::update(ByteView data) {
  sha256_update(&state_->ctx, data.size(), data.data());
}

Sha256Digest Sha256::finish() {
  Sha256Digest out;
  sha256_digest(&state_->ctx, out.size(), out.data());  // also re-initialises the context
  return out;
}

Sha256Digest Sha256::digest(ByteView data) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), data.data());
  Sha256Digest out;
  sha256_digest(&ctx, out.size(), out.data());
  return out;
}

}  // namespace peat
