// Transcript generator for the negentropy interop test: builds two item sets from a seed, runs
// this implementation as initiator and responder, and prints the initiator's items, every
// (initiator message, responder reply) pair as hex, and the resulting have/need ids as JSON.
// nostr_tools_interop.mjs replays the replies into an independent JavaScript initiator and
// requires byte-identical messages and the same have/need.
#include <cstdio>
#include <set>
#include <string>

#include "peat/common/random.hpp"
#include "peat/sync/negentropy.hpp"

using peat::Bytes;
using peat::sync::Negentropy;
using peat::sync::NegId;
using peat::sync::NegItem;
using peat::sync::NegVector;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s seed shared only_a only_b timestamp_range frame_limit\n",
                 argv[0]);
    return 2;
  }
  const std::uint64_t seed = std::stoull(argv[1]);
  const std::size_t shared = std::stoull(argv[2]);
  const std::size_t only_a = std::stoull(argv[3]);
  const std::size_t only_b = std::stoull(argv[4]);
  const std::uint64_t ts_range = std::stoull(argv[5]);
  const std::uint64_t limit = std::stoull(argv[6]);
  peat::SeededRng rng(seed);
  auto make = [&] {
    NegItem it;
    it.timestamp = 1000 + rng.uniform(ts_range);
    rng.fill(it.id);
    return it;
  };
  std::vector<NegItem> a;
  std::vector<NegItem> b;
  for (std::size_t i = 0; i < shared; ++i) {
    NegItem it = make();
    a.push_back(it);
    b.push_back(it);
  }
  for (std::size_t i = 0; i < only_a; ++i) a.push_back(make());
  for (std::size_t i = 0; i < only_b; ++i) b.push_back(make());
  auto va = NegVector::build(a);
  auto vb = NegVector::build(b);
  if (!va.ok() || !vb.ok()) return 1;
  auto init = Negentropy::create(*va, limit);
  auto resp = Negentropy::create(*vb, limit);
  if (!init.ok() || !resp.ok()) return 1;

  std::printf("{\"limit\":%llu,\"items\":[", static_cast<unsigned long long>(limit));
  for (std::size_t i = 0; i < va->size(); ++i) {
    std::printf("%s[%llu,\"%s\"]", i ? "," : "",
                static_cast<unsigned long long>(va->item(i).timestamp),
                peat::to_hex(va->item(i).id).c_str());
  }
  std::printf("],\"transcript\":[");
  auto first = init->initiate();
  if (!first.ok()) return 1;
  std::optional<Bytes> msg = *first;
  std::vector<NegId> have;
  std::vector<NegId> need;
  for (int round = 0; msg && round < 10000; ++round) {
    auto reply = resp->respond(*msg);
    if (!reply.ok()) return 1;
    std::printf("%s[\"%s\",\"%s\"]", round ? "," : "", peat::to_hex(*msg).c_str(),
                peat::to_hex(*reply).c_str());
    auto next = init->reconcile(*reply, have, need);
    if (!next.ok()) return 1;
    msg = *next;
  }
  auto print_ids = [](const char* name, const std::vector<NegId>& ids) {
    std::set<std::string> sorted;
    for (const NegId& id : ids) sorted.insert(peat::to_hex(id));
    std::printf("\"%s\":[", name);
    bool comma = false;
    for (const std::string& s : sorted) {
      std::printf("%s\"%s\"", comma ? "," : "", s.c_str());
      comma = true;
    }
    std::printf("]");
  };
  std::printf("],");
  print_ids("have", have);
  std::printf(",");
  print_ids("need", need);
  std::printf("}\n");
  return 0;
}
