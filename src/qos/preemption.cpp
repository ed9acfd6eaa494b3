#include "peat/qos/preemption.hpp"

namespace peat::qos {

double ActiveTransfer::progress() const {
  if (bytes_total == 0) return 1.0;
  return static_cast<double>(bytes_sent) / static_cast<double>(bytes_total);
}

TransferId PreemptionController::register_transfer(QosClass c, std::uint64_t bytes_total,
                                                   bool can_pause, Instant now) {
  std::lock_guard lock(mu_);
  TransferId id = next_id_++;
  ActiveTransfer t;
  t.id = id;
  t.qos_class = c;
  t.bytes_total = bytes_total;
  t.can_pause = can_pause;
  t.started_at = now;
  transfers_.emplace(id, t);
  return id;
}

bool PreemptionController::unregister_transfer(TransferId id) {
  std::lock_guard lock(mu_);
  return transfers_.erase(id) > 0;
}

std::optional<ActiveTransfer> PreemptionController::get_transfer(TransferId id) const {
  std::lock_guard lock(mu_);
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return std::nullopt;
  return it->second;
}

bool PreemptionController::record_sent(TransferId id, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return false;
  it->second.bytes_sent += bytes;
  return true;
}

bool PreemptionController::should_preempt(QosClass incoming) const {
  if (!may_preempt(incoming)) return false;
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : transfers_) {
    if (t.can_be_preempted_by(incoming) && !t.is_paused) return true;
  }
  return false;
}

std::vector<TransferId> PreemptionController::pause_transfers_below(QosClass c, Instant now) {
  std::vector<TransferId> paused;
  if (!may_preempt(c)) return paused;
  std::lock_guard lock(mu_);
  for (auto& [id, t] : transfers_) {
    if (t.can_be_preempted_by(c) && !t.is_paused) {
      t.is_paused = true;
      t.paused_at = now;
      paused.push_back(id);
    }
  }
  if (!paused.empty()) ++preemptions_;
  return paused;
}

std::size_t PreemptionController::resume_transfers(const std::vector<TransferId>& ids) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (TransferId id : ids) {
    auto it = transfers_.find(id);
    if (it == transfers_.end() || !it->second.is_paused) continue;
    it->second.is_paused = false;
    it->second.paused_at.reset();
    ++n;
  }
  return n;
}

std::size_t PreemptionController::resume_all() {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& [id, t] : transfers_) {
    if (!t.is_paused) continue;
    t.is_paused = false;
    t.paused_at.reset();
    ++n;
  }
  return n;
}

std::size_t PreemptionController::cleanup_completed() {
  std::lock_guard lock(mu_);
  return std::erase_if(transfers_, [](const auto& kv) { return kv.second.is_complete(); });
}

std::size_t PreemptionController::active_count() const {
  std::lock_guard lock(mu_);
  return transfers_.size();
}

std::size_t PreemptionController::paused_count() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [id, t] : transfers_) n += t.is_paused ? 1 : 0;
  return n;
}

std::size_t PreemptionController::preemption_count() const {
  std::lock_guard lock(mu_);
  return preemptions_;
}

std::vector<ActiveTransfer> PreemptionController::transfers_by_class(QosClass c) const {
  std::lock_guard lock(mu_);
  std::vector<ActiveTransfer> out;
  for (const auto& [id, t] : transfers_) {
    if (t.qos_class == c) out.push_back(t);
  }
  return out;
}

std::vector<ActiveTransfer> PreemptionController::preemptable_transfers(QosClass by) const {
  std::lock_guard lock(mu_);
  std::vector<ActiveTransfer> out;
  for (const auto& [id, t] : transfers_) {
    if (t.can_be_preempted_by(by)) out.push_back(t);
  }
  return out;
}

std::uint64_t PreemptionController::bandwidth_used_below(QosClass c) const {
  std::lock_guard lock(mu_);
  std::uint64_t sum = 0;
  for (const auto& [id, t] : transfers_) {
    if (can_preempt(c, t.qos_class) && !t.is_paused) sum += t.bytes_remaining();
  }
  return sum;
}

PreemptionStats PreemptionController::stats() const {
  std::lock_guard lock(mu_);
  PreemptionStats s;
  s.active_transfers = transfers_.size();
  s.preemption_events = preemptions_;
  for (const auto& [id, t] : transfers_) {
    if (t.is_paused) ++s.paused_transfers;
    ++s.transfers_by_class[qos_index(t.qos_class)];
  }
  return s;
}

}  // namespace peat::qos
