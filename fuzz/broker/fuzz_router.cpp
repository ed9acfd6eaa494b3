// The router with arbitrary methods, targets, headers and bodies over an in-memory backend.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "peat/broker/router.hpp"

namespace {

class MemoryBackend : public peat::broker::BrokerBackend {
 public:
  peat::broker::NodeInfo node_info() override { return {"fuzz", 0, "0"}; }
  std::vector<peat::broker::PeerSummary> peers() override { return {{"p", true, "healthy", 1}}; }
  std::optional<peat::broker::PeerSummary> peer(const std::string& id) override {
    if (id == "p") return peers()[0];
    return std::nullopt;
  }
  peat::broker::TopologySummary topology() override { return {1, "member", 0}; }
  std::optional<std::vector<std::string>> list_documents(const std::string& c) override {
    std::vector<std::string> out;
    for (const auto& [k, v] : docs)
      if (k.first == c) out.push_back(v);
    if (out.empty()) return std::nullopt;
    return out;
  }
  std::optional<std::string> get_document(const std::string& c, const std::string& id) override {
    auto it = docs.find({c, id});
    if (it == docs.end()) return std::nullopt;
    return it->second;
  }
  peat::Status put_document(const std::string& c, const std::string& id,
                            const std::string& json) override {
    if (docs.size() < 64) docs[{c, id}] = json;
    return {};
  }
  peat::Result<bool> delete_document(const std::string& c, const std::string& id) override {
    return docs.erase({c, id}) > 0;
  }
  peat::Result<std::vector<std::string>> query_documents(const std::string& c,
                                                         const std::string&) override {
    return list_documents(c).value_or(std::vector<std::string>{});
  }
  std::map<std::pair<std::string, std::string>, std::string> docs;
};

MemoryBackend backend;
peat::broker::Router router(backend, {std::string("token")});

// Splits the input at NUL bytes into method, target, authorization, content-type and body.
std::string take(const std::uint8_t*& p, const std::uint8_t* end) {
  std::string out;
  while (p < end && *p != 0) out.push_back(static_cast<char>(*p++));
  if (p < end) ++p;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* p = data;
  const std::uint8_t* end = data + size;
  peat::broker::HttpRequest req;
  req.method = take(p, end);
  req.target = take(p, end);
  req.headers["authorization"] = take(p, end);
  req.headers["content-type"] = take(p, end);
  req.body.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(end - p));
  auto response = router.handle(req);
  if (response.status < 100 || response.status > 599) __builtin_trap();
  return 0;
}
