#include "peat/qos/bandwidth.hpp"

#include <algorithm>
#include <chrono>

namespace peat::qos {

namespace {

constexpr Duration kWindow = std::chrono::seconds(1);

Error config_error(std::string message) {
  return make_error("INVALID_BANDWIDTH_CONFIG", std::move(message));
}

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

std::array<QuotaConfig, kQosClassCount> BandwidthConfig::default_quotas() {
  return {QuotaConfig{20, 80, true}, QuotaConfig{30, 60, true}, QuotaConfig{20, 40, false},
          QuotaConfig{15, 30, false}, QuotaConfig{5, 20, false}};
}

Status BandwidthConfig::validate() const {
  unsigned sum = 0;
  for (QosClass c : kAllQosClasses) {
    const QuotaConfig& q = quotas[qos_index(c)];
    sum += q.min_guaranteed_percent;
    if (q.max_burst_percent < q.min_guaranteed_percent) {
      return config_error(std::string(to_string(c)) + ": burst below guaranteed");
    }
    if (q.max_burst_percent > 100) {
      return config_error(std::string(to_string(c)) + ": burst above 100%");
    }
  }
  if (sum > 100) return config_error("guaranteed shares add up to " + std::to_string(sum) + "%");
  return {};
}

Result<BandwidthAllocation> BandwidthConfig::build(Instant now) const {
  PEAT_TRY_STATUS(validate());
  std::array<BandwidthQuota, kQosClassCount> q;
  for (std::size_t i = 0; i < kQosClassCount; ++i) {
    q[i] = {total_bandwidth_bps * quotas[i].min_guaranteed_percent / 100,
            total_bandwidth_bps * quotas[i].max_burst_percent / 100, quotas[i].preemption_enabled};
  }
  return BandwidthAllocation(total_bandwidth_bps, q, now);
}

nlohmann::json BandwidthConfig::to_json() const {
  nlohmann::json q = nlohmann::json::object();
  for (QosClass c : kAllQosClasses) {
    const QuotaConfig& v = quotas[qos_index(c)];
    q[std::string(to_string(c))] = {{"min_guaranteed_percent", v.min_guaranteed_percent},
                                    {"max_burst_percent", v.max_burst_percent},
                                    {"preemption_enabled", v.preemption_enabled}};
  }
  return {{"total_bandwidth_bps", total_bandwidth_bps}, {"quotas", std::move(q)}};
}

Result<BandwidthConfig> BandwidthConfig::from_json(const nlohmann::json& j) {
  BandwidthConfig out;
  if (!j.is_object()) return config_error("not an object");
  if (auto it = j.find("total_bandwidth_bps"); it != j.end()) {
    if (!it->is_number_unsigned()) return config_error("total_bandwidth_bps must be unsigned");
    out.total_bandwidth_bps = it->get<std::uint64_t>();
  }
  auto qs = j.find("quotas");
  if (qs == j.end()) return out;
  if (!qs->is_object()) return config_error("quotas must be an object");
  for (const auto& [name, v] : qs->items()) {
    auto c = parse_qos_class(name);
    if (!c.ok()) return config_error(c.error().message);
    if (!v.is_object()) return config_error(name + " must be an object");
    QuotaConfig& q = out.quotas[qos_index(*c)];
    for (const char* field : {"min_guaranteed_percent", "max_burst_percent"}) {
      auto f = v.find(field);
      if (f == v.end()) continue;
      if (!f->is_number_unsigned() || f->get<std::uint64_t>() > 255) {
        return config_error(name + "." + field + " must be 0..255");
      }
      (std::string_view(field) == "min_guaranteed_percent" ? q.min_guaranteed_percent
                                                           : q.max_burst_percent) =
          static_cast<std::uint8_t>(f->get<std::uint64_t>());
    }
    if (auto f = v.find("preemption_enabled"); f != v.end()) {
      if (!f->is_boolean()) return config_error(name + ".preemption_enabled must be a boolean");
      q.preemption_enabled = f->get<bool>();
    }
  }
  return out;
}

BandwidthPermit& BandwidthPermit::operator=(BandwidthPermit&& o) noexcept {
  if (this != &o) {
    release();
    size_ = o.size_;
    class_ = o.class_;
    active_ = std::move(o.active_);
  }
  return *this;
}

void BandwidthPermit::release() {
  if (active_) {
    active_->fetch_sub(1);
    active_.reset();
  }
}

namespace {

std::array<BandwidthQuota, kQosClassCount> default_table(std::uint64_t total_bps) {
  std::array<BandwidthQuota, kQosClassCount> q;
  auto cfg = BandwidthConfig::default_quotas();
  for (std::size_t i = 0; i < kQosClassCount; ++i) {
    q[i] = {total_bps * cfg[i].min_guaranteed_percent / 100,
            total_bps * cfg[i].max_burst_percent / 100, cfg[i].preemption_enabled};
  }
  return q;
}

}  // namespace

BandwidthAllocation::BandwidthAllocation(std::uint64_t total_bps, Instant now)
    : BandwidthAllocation(total_bps, default_table(total_bps), now) {}

BandwidthAllocation::BandwidthAllocation(std::uint64_t total_bps,
                                         const std::array<BandwidthQuota, kQosClassCount>& q,
                                         Instant now)
    : total_bps_(total_bps),
      quotas_(q),
      tokens_(static_cast<double>(total_bps)),
      last_refill_(now),
      active_(std::make_shared<std::atomic<std::uint64_t>>(0)) {
  for (Usage& u : usage_) u.window_start = now;
}

BandwidthAllocation::Usage BandwidthAllocation::advanced(const Usage& u, Instant now) {
  if (now < u.window_start + kWindow) return u;
  auto windows = (now - u.window_start) / kWindow;
  Usage out;
  out.window_start = u.window_start + windows * kWindow;
  out.previous_bytes = windows == 1 ? u.current_bytes : 0;
  return out;
}

std::uint64_t BandwidthAllocation::usage_bps(QosClass c, Instant now) const {
  Usage u = advanced(usage_[qos_index(c)], now);
  double into = now > u.window_start ? seconds(now - u.window_start) : 0.0;
  double weight = std::clamp(1.0 - into / seconds(kWindow), 0.0, 1.0);
  double bits = static_cast<double>(u.previous_bytes) * 8.0 * weight +
                static_cast<double>(u.current_bytes) * 8.0;
  return static_cast<std::uint64_t>(bits);
}

bool BandwidthAllocation::can_transmit(QosClass c, std::uint64_t size_bytes, Instant now) const {
  std::uint64_t usage = usage_bps(c, now);
  if (usage == 0) return true;
  return usage + size_bytes * 8 <= quotas_[qos_index(c)].max_burst_bps;
}

void BandwidthAllocation::refill(Instant now) {
  if (now <= last_refill_) return;
  tokens_ = std::min(tokens_ + seconds(now - last_refill_) * static_cast<double>(total_bps_),
                     static_cast<double>(total_bps_));
  last_refill_ = now;
}

std::optional<BandwidthPermit> BandwidthAllocation::acquire(QosClass c, std::uint64_t size_bytes,
                                                            Instant now) {
  if (total_bps_ == 0 || !can_transmit(c, size_bytes, now)) return std::nullopt;
  refill(now);
  double bits = static_cast<double>(size_bytes) * 8.0;
  bool bucket_full = tokens_ >= static_cast<double>(total_bps_);
  if (tokens_ < bits && !bucket_full) return std::nullopt;
  tokens_ -= bits;
  Usage& u = usage_[qos_index(c)];
  u = advanced(u, now);
  u.current_bytes += size_bytes;
  active_->fetch_add(1);
  return BandwidthPermit(size_bytes, c, active_);
}

bool BandwidthAllocation::preempt_lower(QosClass c, Instant now) const {
  if (!quotas_[qos_index(c)].preemption_enabled) return false;
  for (QosClass other : kAllQosClasses) {
    if (can_preempt(c, other) && usage_bps(other, now) > 0) return true;
  }
  return false;
}

double BandwidthAllocation::class_utilization(QosClass c, Instant now) const {
  std::uint64_t g = quotas_[qos_index(c)].min_guaranteed_bps;
  if (g == 0) return 0.0;
  return static_cast<double>(usage_bps(c, now)) / static_cast<double>(g);
}

double BandwidthAllocation::total_utilization(Instant now) {
  refill(now);
  if (total_bps_ == 0) return 0.0;
  return 1.0 - tokens_ / static_cast<double>(total_bps_);
}

std::uint64_t BandwidthAllocation::available_bits(Instant now) {
  refill(now);
  return tokens_ <= 0 ? 0 : static_cast<std::uint64_t>(tokens_);
}

}  // namespace peat::qos
