#include "peat/discovery/mdns_responder.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

namespace peat::discovery::mdns {
namespace {

using dns::Name;
using dns::RecordType;
using dns::ResourceRecord;

const Name& services_meta_name() {
  static const Name n{{"_services", "_dns-sd", "_udp", "local"}};
  return n;
}

bool matches_type(std::uint16_t qtype, RecordType t) {
  return qtype == static_cast<std::uint16_t>(RecordType::kAny) ||
         qtype == static_cast<std::uint16_t>(t);
}

ResourceRecord make(Name name, RecordType type, std::uint32_t ttl, bool unique, dns::RData data) {
  ResourceRecord rr;
  rr.name = std::move(name);
  rr.type = static_cast<std::uint16_t>(type);
  rr.ttl = ttl;
  rr.cache_flush = unique;
  rr.data = std::move(data);
  return rr;
}

}  // namespace

std::vector<ResourceRecord> MdnsResponder::records(bool goodbye) const {
  const auto& a = advert_;
  const std::uint32_t host_ttl = goodbye ? 0 : a.host_ttl;
  const std::uint32_t other_ttl = goodbye ? 0 : a.other_ttl;
  std::vector<ResourceRecord> out;
  out.push_back(make(a.service_type, RecordType::kPtr, other_ttl, false, a.instance_name()));
  out.push_back(make(a.instance_name(), RecordType::kSrv, host_ttl, true,
                     dns::SrvData{0, 0, a.port, a.host}));
  dns::TxtData txt;
  for (const auto& [k, v] : a.txt) txt.entries.push_back(k + "=" + v);
  out.push_back(make(a.instance_name(), RecordType::kTxt, other_ttl, true, std::move(txt)));
  for (const auto& v4 : a.ipv4) out.push_back(make(a.host, RecordType::kA, host_ttl, true, v4));
  for (const auto& v6 : a.ipv6) out.push_back(make(a.host, RecordType::kAaaa, host_ttl, true, v6));
  if (!goodbye) {
    out.push_back(make(services_meta_name(), RecordType::kPtr, other_ttl, false, a.service_type));
  }
  return out;
}

void MdnsResponder::start(Instant now) {
  running_ = true;
  goodbye_pending_ = false;
  if (options_.probe) {
    begin_probing(options_.rng ? now + std::chrono::milliseconds(options_.rng->uniform(251)) : now);
  } else {
    probes_sent_ = -1;
    announce_at_ = {now, now + std::chrono::seconds(1)};
  }
}

void MdnsResponder::begin_probing(Instant at) {
  pending_.clear();
  probes_sent_ = 0;
  next_probe_ = at;
  announce_at_.clear();
}

void MdnsResponder::stop() {
  if (!running_) return;
  running_ = false;
  const bool announced = probes_sent_ < 0;
  probes_sent_ = -1;
  announce_at_.clear();
  pending_.clear();
  goodbye_pending_ = announced;  // nothing to retract if we never announced
}

std::vector<ResourceRecord> MdnsResponder::unique_records() const {
  std::vector<ResourceRecord> out;
  for (auto& rr : records(false)) {
    if (rr.cache_flush) out.push_back(std::move(rr));
  }
  return out;
}

bool MdnsResponder::owns_name(const Name& name) const {
  return name.equals(advert_.instance_name()) || name.equals(advert_.host);
}

bool MdnsResponder::conflicts_with(const ResourceRecord& theirs) const {
  if (!owns_name(theirs.name) || theirs.ttl == 0) return false;
  const auto mine = unique_records();
  const bool same = std::any_of(mine.begin(), mine.end(),
                                [&](const ResourceRecord& m) { return m.same_record(theirs); });
  if (same) return false;
  // While probing any record for our names is a conflict; once announced only a different
  // record of one of our unique types is (RFC 6762 §9).
  if (probes_sent_ >= 0) return true;
  return std::any_of(mine.begin(), mine.end(), [&](const ResourceRecord& m) {
    return m.type == theirs.type && m.name.equals(theirs.name);
  });
}

// RFC 6762 §8.2: compare the authority records each side probes with, sorted by class, type and
// RDATA; the lexicographically later set wins. Equal sets are our own probe looped back.
bool MdnsResponder::loses_tiebreak(const dns::Message& probe) const {
  using Key = std::tuple<std::uint16_t, std::uint16_t, Bytes>;
  auto keys = [](const std::vector<ResourceRecord>& rrs, const Name& name) {
    std::vector<Key> out;
    for (const auto& rr : rrs) {
      if (!rr.name.equals(name)) continue;
      out.emplace_back(rr.rclass, rr.type, dns::encode_rdata(rr.data).value_or(Bytes{}));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  for (const Name& name : {advert_.instance_name(), advert_.host}) {
    const auto theirs = keys(probe.authorities, name);
    if (theirs.empty()) continue;
    const auto ours = keys(unique_records(), name);
    if (std::lexicographical_compare(ours.begin(), ours.end(), theirs.begin(), theirs.end())) {
      return true;
    }
  }
  return false;
}

void MdnsResponder::rename(Instant now) {
  ++conflicts_;
  const std::string n = std::to_string(conflicts_ + 1);
  const std::string suffix = " (" + n + ")";
  advert_.instance = base_instance_.substr(0, 63 - suffix.size()) + suffix;
  if (!advert_.host.labels.empty()) {
    advert_.host.labels.front() = base_host_.substr(0, 62 - n.size()) + "-" + n;
  }
  begin_probing(now);
}

std::vector<ResourceRecord> MdnsResponder::answers_for(const dns::Question& q) const {
  std::vector<ResourceRecord> out;
  if (q.qclass != dns::kClassIn && q.qclass != 255) return out;
  for (auto& rr : records(false)) {
    if (rr.name.equals(q.name) && (matches_type(q.type, static_cast<RecordType>(rr.type)))) {
      out.push_back(std::move(rr));
    }
  }
  return out;
}

std::vector<ResourceRecord> MdnsResponder::additionals_for(
    const std::vector<ResourceRecord>& answers) const {
  // RFC 6763 §12: with a PTR answer send SRV, TXT and addresses; with SRV send addresses.
  bool want_srv_txt = false, want_addr = false;
  for (const auto& a : answers) {
    if (a.type == static_cast<std::uint16_t>(RecordType::kPtr) &&
        a.name.equals(advert_.service_type)) {
      want_srv_txt = want_addr = true;
    }
    if (a.type == static_cast<std::uint16_t>(RecordType::kSrv)) want_addr = true;
  }
  std::vector<ResourceRecord> out;
  for (auto& rr : records(false)) {
    const auto t = static_cast<RecordType>(rr.type);
    const bool srv_txt =
        (t == RecordType::kSrv || t == RecordType::kTxt) && rr.name.equals(advert_.instance_name());
    const bool addr = t == RecordType::kA || t == RecordType::kAaaa;
    if ((want_srv_txt && srv_txt) || (want_addr && addr)) {
      const bool dup = std::any_of(answers.begin(), answers.end(),
                                   [&](const ResourceRecord& a) { return a.same_record(rr); });
      if (!dup) out.push_back(std::move(rr));
    }
  }
  return out;
}

void MdnsResponder::on_message(const dns::Message& message, const SocketAddress& from,
                               Instant now) {
  if (!running_) return;
  if (message.is_response()) {
    for (const auto* section : {&message.answers, &message.additionals}) {
      for (const auto& rr : *section) {
        if (conflicts_with(rr)) {
          rename(now);
          return;
        }
      }
    }
    return;
  }
  if (probes_sent_ >= 0) {
    // Someone else probing for our names at the same time (§8.2): the later data wins.
    if (!message.authorities.empty() && loses_tiebreak(message)) {
      begin_probing(now + std::chrono::seconds(1));
    }
    return;  // names are not ours until probing succeeds
  }
  answer_query(message, from, now);
}

void MdnsResponder::answer_query(const dns::Message& message, const SocketAddress& from,
                                 Instant now) {
  if (message.questions.empty()) return;
  std::vector<ResourceRecord> answers;
  for (const auto& q : message.questions) {
    for (auto& rr : answers_for(q)) {
      const bool dup = std::any_of(answers.begin(), answers.end(),
                                   [&](const ResourceRecord& a) { return a.same_record(rr); });
      // Known-answer suppression (RFC 6762 §7.1): skip what the querier already holds with at
      // least half our TTL.
      const bool known =
          std::any_of(message.answers.begin(), message.answers.end(), [&](const ResourceRecord& k) {
            return k.same_record(rr) && std::uint64_t{k.ttl} * 2 >= rr.ttl;
          });
      if (!dup && !known) answers.push_back(std::move(rr));
    }
  }
  if (answers.empty()) return;
  dns::Message reply;
  reply.flags = dns::kResponseFlags;
  const bool legacy = from.port != kMdnsPort;
  if (legacy) {
    // RFC 6762 §6.7: echo id and questions, no cache-flush bits, TTL at most 10 s.
    reply.id = message.id;
    reply.questions = message.questions;
  }
  reply.additionals = additionals_for(answers);
  reply.answers = std::move(answers);
  if (legacy) {
    for (auto* section : {&reply.answers, &reply.additionals}) {
      for (auto& rr : *section) {
        rr.cache_flush = false;
        rr.ttl = std::min<std::uint32_t>(rr.ttl, 10);
      }
    }
  }
  auto bytes = dns::encode_dns_message(reply);
  if (!bytes) return;
  // Answers with shared records (our PTRs) may collide with other responders' answers: delay them
  // 20-120 ms (§6). Unique answers and legacy unicast replies go at once.
  const bool shared = std::any_of(reply.answers.begin(), reply.answers.end(),
                                  [](const ResourceRecord& rr) { return !rr.cache_flush; });
  Instant due = now;
  if (shared && !legacy && options_.rng) {
    due += std::chrono::milliseconds(20 + options_.rng->uniform(101));
  }
  pending_.emplace_back(due,
                        Outgoing{std::move(*bytes), legacy ? std::optional(from) : std::nullopt});
}

std::vector<Outgoing> MdnsResponder::poll(Instant now) {
  std::vector<Outgoing> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->first <= now) {
      out.push_back(std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  auto announce = [&](bool goodbye) {
    dns::Message m;
    m.flags = dns::kResponseFlags;
    m.answers = records(goodbye);
    if (auto bytes = dns::encode_dns_message(m)) out.push_back(Outgoing{std::move(*bytes), {}});
  };
  if (goodbye_pending_) {
    goodbye_pending_ = false;
    announce(true);
  }
  if (running_ && probes_sent_ >= 0 && now >= next_probe_) {
    if (probes_sent_ < 3) {
      dns::Message probe;
      for (const Name& name : {advert_.instance_name(), advert_.host}) {
        probe.questions.push_back(
            dns::Question{name, static_cast<std::uint16_t>(RecordType::kAny), dns::kClassIn, true});
      }
      probe.authorities = unique_records();
      for (auto& rr : probe.authorities) rr.cache_flush = false;
      if (auto bytes = dns::encode_dns_message(probe)) {
        out.push_back(Outgoing{std::move(*bytes), {}});
      }
      ++probes_sent_;
      next_probe_ = now + std::chrono::milliseconds(250);
    } else {
      probes_sent_ = -1;  // 250 ms after the third probe without conflict: the names are ours
      announce_at_ = {now, now + std::chrono::seconds(1)};
    }
  }
  while (!announce_at_.empty() && announce_at_.front() <= now) {
    announce_at_.erase(announce_at_.begin());
    announce(false);
  }
  return out;
}

std::optional<Instant> MdnsResponder::next_wakeup() const {
  if (goodbye_pending_) return Instant::min();
  std::optional<Instant> next;
  auto consider = [&](Instant i) {
    if (!next || i < *next) next = i;
  };
  for (const auto& [due, o] : pending_) consider(due);
  if (running_ && probes_sent_ >= 0) consider(next_probe_);
  if (!announce_at_.empty()) consider(announce_at_.front());
  return next;
}

}  // namespace peat::discovery::mdns
