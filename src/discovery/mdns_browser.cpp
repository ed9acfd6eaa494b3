#include "peat/discovery/mdns_browser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

namespace peat::discovery::mdns {
namespace {

using dns::Name;
using dns::RecordType;
using dns::ResourceRecord;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kFirstInterval = seconds(1);
constexpr Duration kMaxInterval = seconds(3600);
constexpr Duration kMaxDirectInterval = seconds(60);

std::uint16_t t(RecordType r) {
  return static_cast<std::uint16_t>(r);
}

std::string key_of(const Name& n) {
  std::string out;
  for (const auto& l : n.labels) {
    for (char c : l) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    out.push_back('.');
  }
  return out;
}

std::string ip_text(const dns::AData& a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, a.data(), buf, sizeof buf);
  return buf;
}
std::string ip_text(const dns::AaaaData& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

}  // namespace

bool ResolvedService::operator==(const ResolvedService& o) const {
  return instance_name.equals(o.instance_name) && host.equals(o.host) && port == o.port &&
         txt == o.txt && addresses == o.addresses;
}

void MdnsBrowser::start(Instant now) {
  running_ = true;
  next_query_ = now;
  interval_ = kFirstInterval;
}

void MdnsBrowser::schedule_refresh(Entry& e) {
  // RFC 6762 §5.2: refresh at 80, 85, 90, 95 % of the TTL, each with 0-2 % random variation.
  static constexpr int kPercent[] = {80, 85, 90, 95};
  if (e.refresh_step >= 4 || e.rr.ttl == 0) {
    e.refresh_at = Instant::max();
    return;
  }
  const auto ttl_ms = static_cast<std::int64_t>(e.rr.ttl) * 1000;
  const auto base = ttl_ms * kPercent[e.refresh_step] / 100;
  const auto jitter =
      static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(ttl_ms) / 50 + 1));
  e.refresh_at = e.received + milliseconds(base + jitter);
}

void MdnsBrowser::insert(const ResourceRecord& rr, Instant now) {
  if (rr.cache_flush) {
    // RFC 6762 §10.2: records of this name/type received over 1 s ago are flushed (in 1 s).
    for (auto& e : cache_) {
      if (e.rr.type == rr.type && e.rr.name.equals(rr.name) && !e.rr.same_record(rr) &&
          now - e.received > seconds(1)) {
        e.expires = std::min(e.expires, now + seconds(1));
      }
    }
  }
  auto it = std::find_if(cache_.begin(), cache_.end(),
                         [&](const Entry& e) { return e.rr.same_record(rr); });
  if (rr.ttl == 0) {
    // Goodbye (RFC 6762 §10.1): keep it one more second.
    if (it != cache_.end()) it->expires = now + seconds(1);
    return;
  }
  if (it == cache_.end()) {
    cache_.push_back(Entry{rr, now, now, 0, now});
    it = cache_.end() - 1;
  }
  it->rr = rr;
  it->received = now;
  it->expires = now + seconds(rr.ttl);
  it->refresh_step = 0;
  schedule_refresh(*it);
}

void MdnsBrowser::on_message(const dns::Message& message, Instant now) {
  if (!running_ || !message.is_response()) return;
  for (const auto* section : {&message.answers, &message.additionals}) {
    for (const auto& rr : *section) {
      if (rr.rclass != dns::kClassIn) continue;
      const bool wanted = rr.type == t(RecordType::kPtr) || rr.type == t(RecordType::kSrv) ||
                          rr.type == t(RecordType::kTxt) || rr.type == t(RecordType::kA) ||
                          rr.type == t(RecordType::kAaaa);
      if (wanted) insert(rr, now);
    }
  }
  resolve();
}

std::optional<ResolvedService> MdnsBrowser::resolve_instance(const Name& instance) const {
  const Entry* srv = nullptr;
  const Entry* txt = nullptr;
  for (const auto& e : cache_) {
    if (!e.rr.name.equals(instance)) continue;
    if (e.rr.type == t(RecordType::kSrv) && (!srv || e.received > srv->received)) srv = &e;
    if (e.rr.type == t(RecordType::kTxt) && (!txt || e.received > txt->received)) txt = &e;
  }
  if (!srv || !txt) return std::nullopt;
  const auto& s = std::get<dns::SrvData>(srv->rr.data);
  ResolvedService out;
  out.instance_name = instance;
  out.host = s.target;
  out.port = s.port;
  out.txt = dns::parse_txt(std::get<dns::TxtData>(txt->rr.data));
  std::vector<std::string> v4, v6;
  for (const auto& e : cache_) {
    if (!e.rr.name.equals(s.target)) continue;
    if (auto* a = std::get_if<dns::AData>(&e.rr.data)) v4.push_back(ip_text(*a));
    if (auto* a6 = std::get_if<dns::AaaaData>(&e.rr.data)) v6.push_back(ip_text(*a6));
  }
  std::sort(v4.begin(), v4.end());
  std::sort(v6.begin(), v6.end());
  out.addresses = std::move(v4);
  out.addresses.insert(out.addresses.end(), v6.begin(), v6.end());
  if (out.addresses.empty()) return std::nullopt;
  return out;
}

void MdnsBrowser::resolve() {
  std::set<std::string> live;
  for (const auto& e : cache_) {
    if (e.rr.type != t(RecordType::kPtr) || !e.rr.name.equals(type_)) continue;
    const Name& instance = std::get<dns::PtrData>(e.rr.data);
    const std::string key = key_of(instance);
    if (!live.insert(key).second) continue;
    auto resolved = resolve_instance(instance);
    if (!resolved) {
      if (!direct_.count(key)) direct_[key] = {Instant::min(), kFirstInterval};
      auto was = reported_.find(key);
      if (was != reported_.end()) {
        events_.push_back({BrowserEvent::Kind::kRemoved, was->second});
        reported_.erase(was);
      }
      continue;
    }
    direct_.erase(key);
    auto was = reported_.find(key);
    if (was == reported_.end() || !(was->second == *resolved)) {
      reported_[key] = *resolved;
      events_.push_back({BrowserEvent::Kind::kResolved, *resolved});
    }
  }
  for (auto it = reported_.begin(); it != reported_.end();) {
    if (!live.count(it->first)) {
      events_.push_back({BrowserEvent::Kind::kRemoved, it->second});
      it = reported_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = direct_.begin(); it != direct_.end();) {
    it = live.count(it->first) ? std::next(it) : direct_.erase(it);
  }
}

std::vector<Bytes> MdnsBrowser::poll(Instant now) {
  const std::size_t before = cache_.size();
  std::erase_if(cache_, [&](const Entry& e) { return e.expires <= now; });
  if (cache_.size() != before) resolve();
  if (!running_) return {};

  dns::Message q;
  auto ask = [&](const Name& name, RecordType type) {
    for (const auto& existing : q.questions) {
      if (existing.type == t(type) && existing.name.equals(name)) return;
    }
    q.questions.push_back(dns::Question{name, t(type), dns::kClassIn, false});
  };
  bool browse = false;
  if (now >= next_query_) {
    browse = true;
    next_query_ = now + interval_;
    interval_ = std::min(interval_ * 2, kMaxInterval);
  }
  for (auto& e : cache_) {
    if (e.refresh_at > now) continue;
    ++e.refresh_step;
    schedule_refresh(e);
    if (e.rr.type == t(RecordType::kPtr) && e.rr.name.equals(type_)) {
      browse = true;
    } else {
      ask(e.rr.name, static_cast<RecordType>(e.rr.type));
    }
  }
  for (auto& [key, state] : direct_) {
    if (state.first > now) continue;
    state.first = now + state.second;
    state.second = std::min(state.second * 2, kMaxDirectInterval);
    // Ask for whatever the instance still lacks: SRV and TXT, or the SRV target's addresses.
    for (const auto& e : cache_) {
      if (e.rr.type != t(RecordType::kPtr) || key_of(std::get<dns::PtrData>(e.rr.data)) != key) {
        continue;
      }
      const Name& instance = std::get<dns::PtrData>(e.rr.data);
      ask(instance, RecordType::kSrv);
      ask(instance, RecordType::kTxt);
      for (const auto& s : cache_) {
        if (s.rr.type == t(RecordType::kSrv) && s.rr.name.equals(instance)) {
          const Name& host = std::get<dns::SrvData>(s.rr.data).target;
          ask(host, RecordType::kA);
          ask(host, RecordType::kAaaa);
        }
      }
      break;
    }
  }
  if (browse) {
    q.questions.insert(q.questions.begin(),
                       dns::Question{type_, t(RecordType::kPtr), dns::kClassIn, false});
    // Known answers (RFC 6762 §7.1): PTRs we hold with more than half their TTL left.
    for (const auto& e : cache_) {
      if (e.rr.type != t(RecordType::kPtr) || !e.rr.name.equals(type_)) continue;
      const auto left = std::chrono::duration_cast<seconds>(e.expires - now).count();
      if (left * 2 > static_cast<std::int64_t>(e.rr.ttl)) {
        ResourceRecord known = e.rr;
        known.ttl = static_cast<std::uint32_t>(left);
        known.cache_flush = false;
        q.answers.push_back(std::move(known));
      }
    }
  }
  if (q.questions.empty()) return {};
  auto bytes = dns::encode_dns_message(q);
  if (!bytes) return {};
  return {std::move(*bytes)};
}

std::optional<Instant> MdnsBrowser::next_wakeup() const {
  std::optional<Instant> next;
  auto consider = [&](Instant i) {
    if (!next || i < *next) next = i;
  };
  for (const auto& e : cache_) {
    consider(e.expires);
    if (running_) consider(e.refresh_at);
  }
  if (running_) {
    consider(next_query_);
    for (const auto& [key, state] : direct_) consider(state.first);
  }
  return next;
}

std::vector<BrowserEvent> MdnsBrowser::take_events() {
  std::vector<BrowserEvent> out = std::move(events_);
  events_.clear();
  return out;
}

std::vector<ResolvedService> MdnsBrowser::services() const {
  std::vector<ResolvedService> out;
  for (const auto& [k, s] : reported_) out.push_back(s);
  return out;
}

}  // namespace peat::discovery::mdns
