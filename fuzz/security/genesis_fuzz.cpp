// MeshGenesis::decode and MeshCredentials::decode: never crash; accepted input round-trips.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "peat/security/genesis.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peat::security;
  peat::ByteView in(data, size);
  if (auto g = MeshGenesis::decode(in)) {
    auto again = g->encode();
    PEAT_FUZZ_CHECK(again.ok());
    PEAT_FUZZ_CHECK(peat::Bytes(in.begin(), in.end()) ==
                    peat::Bytes(again->view().begin(), again->view().end()));
    PEAT_FUZZ_CHECK(g->mesh_id().size() == 8);
  }
  if (auto c = MeshCredentials::decode(in)) {
    auto again = c->encode();
    PEAT_FUZZ_CHECK(again.ok());
    PEAT_FUZZ_CHECK(peat::Bytes(in.begin(), in.end()) ==
                    peat::Bytes(again->view().begin(), again->view().end()));
  }
  return 0;
}
