// PreemptionController (spec 1.18): tracks transfers and pauses lower-priority ones when
// Critical or High data must go first. Times are passed in; ids are sequential. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/qos/qos_class.hpp"

namespace peat::qos {

using TransferId = std::uint64_t;

struct ActiveTransfer {
  TransferId id = 0;
  QosClass qos_class = QosClass::kNormal;
  std::uint64_t bytes_total = 0;
  std::uint64_t bytes_sent = 0;
  bool can_pause = true;
  bool is_paused = false;
  Instant started_at{};
  std::optional<Instant> paused_at;

  // 1.0 for an empty transfer.
  double progress() const;
  std::uint64_t bytes_remaining() const {
    return bytes_sent >= bytes_total ? 0 : bytes_total - bytes_sent;
  }
  bool is_complete() const { return bytes_sent >= bytes_total; }
  // Pausable and `c` has a strictly higher priority.
  bool can_be_preempted_by(QosClass c) const { return can_pause && can_preempt(c, qos_class); }
};

struct PreemptionStats {
  std::size_t active_transfers = 0;
  std::size_t paused_transfers = 0;
  std::size_t preemption_events = 0;
  std::array<std::size_t, kQosClassCount> transfers_by_class{};
};

class PreemptionController {
 public:
  TransferId register_transfer(QosClass c, std::uint64_t bytes_total, bool can_pause, Instant now);
  bool unregister_transfer(TransferId id);
  std::optional<ActiveTransfer> get_transfer(TransferId id) const;
  bool record_sent(TransferId id, std::uint64_t bytes);

  // Only Critical and High preempt, and only when an unpaused transfer they can preempt exists.
  bool should_preempt(QosClass incoming) const;
  // Pauses every running transfer `c` can preempt (nothing unless c is Critical or High);
  // returns their ids and counts one preemption event when any was paused.
  std::vector<TransferId> pause_transfers_below(QosClass c, Instant now);
  // Returns how many were resumed.
  std::size_t resume_transfers(const std::vector<TransferId>& ids);
  std::size_t resume_all();
  // Drops finished transfers; returns how many.
  std::size_t cleanup_completed();

  std::size_t active_count() const;
  std::size_t paused_count() const;
  std::size_t preemption_count() const;
  std::vector<ActiveTransfer> transfers_by_class(QosClass c) const;
  std::vector<ActiveTransfer> preemptable_transfers(QosClass by) const;
  // Remaining bytes of unpaused transfers of lower classes than `c`.
  std::uint64_t bandwidth_used_below(QosClass c) const;
  PreemptionStats stats() const;

 private:
  static bool may_preempt(QosClass c) { return c == QosClass::kCritical || c == QosClass::kHigh; }
  mutable std::mutex mu_;
  std::map<TransferId, ActiveTransfer> transfers_;
  TransferId next_id_ = 1;
  std::size_t preemptions_ = 0;
};

}  // namespace peat::qos
