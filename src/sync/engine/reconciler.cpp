#include "peat/sync/reconciler.hpp"

namespace peat::sync {

struct Reconciler::State {
  NegVector storage;
  std::optional<Negentropy> neg;
  std::unordered_map<NegId, std::string, NegIdHash> keys;
};

Reconciler::Reconciler(std::unique_ptr<State> s) : s_(std::move(s)) {}
Reconciler::Reconciler(Reconciler&&) noexcept = default;
Reconciler& Reconciler::operator=(Reconciler&&) noexcept = default;
Reconciler::~Reconciler() = default;

Result<Reconciler> Reconciler::create(std::vector<ReconcileItem> items, std::uint64_t frame_limit) {
  auto st = std::make_unique<State>();
  std::vector<NegItem> neg_items;
  neg_items.reserve(items.size());
  st->keys.reserve(items.size());
  for (auto& it : items) {
    neg_items.push_back(NegItem{it.timestamp, it.id});
    st->keys.emplace(it.id, std::move(it.key));
  }
  auto vec = NegVector::build(std::move(neg_items));
  if (!vec.ok()) return vec.error();
  st->storage = std::move(*vec);
  auto neg = Negentropy::create(st->storage, frame_limit);
  if (!neg.ok()) return neg.error();
  st->neg.emplace(std::move(*neg));
  return Reconciler(std::move(st));
}

Result<Bytes> Reconciler::initiate() {
  ++rounds_;
  return s_->neg->initiate();
}

Result<Reconciler::Step> Reconciler::on_reply(ByteView message) {
  std::vector<NegId> have;
  Step step;
  auto next = s_->neg->reconcile(message, have, step.need_ids);
  if (!next.ok()) return next.error();
  step.next = std::move(*next);
  if (step.next) ++rounds_;
  step.have_keys.reserve(have.size());
  for (const auto& id : have) {
    auto it = s_->keys.find(id);
    if (it != s_->keys.end()) step.have_keys.push_back(it->second);
  }
  return step;
}

Result<Bytes> Reconciler::respond(ByteView message) {
  ++rounds_;
  return s_->neg->respond(message);
}

std::vector<std::string> Reconciler::keys_for(const std::vector<NegId>& ids) const {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    auto it = s_->keys.find(id);
    if (it != s_->keys.end()) out.push_back(it->second);
  }
  return out;
}

std::size_t Reconciler::size() const {
  return s_->storage.size();
}

}  // namespace peat::sync
