// QosPolicy (spec 1.13): the delivery and retention requirements of one QoS class.
#pragma once

#include <cstdint>
#include <optional>

#include "peat/qos/qos_class.hpp"

namespace peat::qos {

struct QosPolicy {
  QosClass base_class = QosClass::kNormal;
  std::optional<std::uint64_t> max_latency_ms = 60'000;  // defaults = the Normal preset
  std::optional<std::uint64_t> max_size_bytes;
  std::optional<std::uint64_t> ttl_seconds;
  std::uint8_t retention_priority = 3;  // 1..5, higher = kept longer
  bool preemptable = true;

  // Presets: Critical 500 ms / 64 KiB / no TTL / 5 / not preemptable; High 5 s / 10 MiB / 1 h /
  // 4; Normal ("default") 60 s / - / - / 3; Low 300 s / - / 24 h / 2; Bulk - / - / 7 d / 1.
  static QosPolicy critical();
  static QosPolicy high();
  static QosPolicy normal();
  static QosPolicy low();
  static QosPolicy bulk();
  static QosPolicy for_class(QosClass c);

  // Strictly greater than the limit; no limit never exceeds.
  bool exceeds_latency(std::uint64_t latency_ms) const {
    return max_latency_ms && latency_ms > *max_latency_ms;
  }
  bool exceeds_size(std::uint64_t size_bytes) const {
    return max_size_bytes && size_bytes > *max_size_bytes;
  }
  bool operator==(const QosPolicy&) const = default;
};

}  // namespace peat::qos
