#include "peat/discovery/dns_message.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "peat/common/byte_io.hpp"

namespace peat::discovery::dns {
namespace {

constexpr std::size_t kMaxNameBytes = 255;  // wire length, including length octets and root
constexpr std::size_t kMaxLabels = 128;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool label_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string lower_key(const Name& n) {
  std::string out;
  for (const auto& l : n.labels) {
    for (char c : l) out.push_back(lower(c));
    out.push_back('\0');
  }
  return out;
}

// DNS is big-endian throughout.
using Reader = BeReader;

template <typename T>
bool get(std::optional<T> v, T& out) {
  if (!v) return false;
  out = *v;
  return true;
}

// Reads a name at r's position, following compression pointers within `message`, the bytes r
// reads from; r moves past the name (past its first pointer, when it has one).
Result<Name> read_name(Reader& r, ByteView message) {
  Name out;
  std::size_t p = r.pos();
  std::size_t wire = 1;  // the root label
  bool jumped = false;
  // A pointer must go strictly before the start of the label run it ends, so each jump moves
  // backwards: the walk ends after at most message.size() steps.
  std::size_t run_start = p;
  for (;;) {
    if (p >= message.size()) return make_error("DNS_TRUNCATED", "name runs past the end");
    const std::uint8_t len = message[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= message.size()) return make_error("DNS_TRUNCATED", "name pointer cut off");
      const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | message[p + 1];
      if (target >= run_start) {
        return make_error("DNS_BAD_NAME", "compression pointer does not point backwards");
      }
      if (!jumped) r.take(p + 2 - r.pos());
      jumped = true;
      p = target;
      run_start = target;
      continue;
    }
    if ((len & 0xC0) != 0) return make_error("DNS_BAD_NAME", "unsupported label type");
    if (len == 0) {
      if (!jumped) r.take(p + 1 - r.pos());
      return out;
    }
    if (p + 1 + len > message.size()) return make_error("DNS_TRUNCATED", "label runs past the end");
    wire += 1u + len;
    if (wire > kMaxNameBytes || out.labels.size() >= kMaxLabels) {
      return make_error("DNS_BAD_NAME", "name longer than 255 bytes");
    }
    out.labels.emplace_back(reinterpret_cast<const char*>(message.data() + p + 1), len);
    p += 1u + len;
  }
}

Error truncated(const char* what) {
  return make_error("DNS_TRUNCATED", what);
}

Result<ResourceRecord> read_record(Reader& r, ByteView packet) {
  ResourceRecord rr;
  auto name = read_name(r, packet);
  if (!name) return name.error();
  rr.name = std::move(*name);
  std::uint16_t cls = 0, rdlen = 0;
  if (!get(r.u16(), rr.type) || !get(r.u16(), cls) || !get(r.u32(), rr.ttl) ||
      !get(r.u16(), rdlen)) {
    return truncated("record header cut off");
  }
  rr.cache_flush = (cls & 0x8000) != 0;
  rr.rclass = cls & 0x7FFF;
  if (r.remaining() < rdlen) return truncated("RDATA runs past the end");
  const std::size_t start = r.pos();
  const std::size_t end = start + rdlen;
  auto bad = [](const char* why) { return make_error("DNS_BAD_RDATA", why); };
  switch (static_cast<RecordType>(rr.type)) {
    case RecordType::kA: {
      if (rdlen != 4) return bad("A record RDATA must be 4 bytes");
      AData a;
      std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(start), 4, a.begin());
      rr.data = a;
      r.take(4);
      break;
    }
    case RecordType::kAaaa: {
      if (rdlen != 16) return bad("AAAA record RDATA must be 16 bytes");
      AaaaData a;
      std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(start), 16, a.begin());
      rr.data = a;
      r.take(16);
      break;
    }
    case RecordType::kPtr: {
      // Names inside RDATA may point anywhere earlier in the message, but must end inside it.
      Reader sub(packet.first(end));
      sub.take(start);
      auto target = read_name(sub, packet.first(end));
      if (!target)
        return target.error().code == "DNS_TRUNCATED" ? bad("PTR name overruns RDATA")
                                                      : target.error();
      if (sub.pos() != end) return bad("PTR RDATA has trailing bytes");
      rr.data = PtrData{std::move(*target)};
      r.take(rdlen);
      break;
    }
    case RecordType::kSrv: {
      Reader sub(packet.first(end));
      sub.take(start);
      SrvData srv;
      if (!get(sub.u16(), srv.priority) || !get(sub.u16(), srv.weight) ||
          !get(sub.u16(), srv.port)) {
        return bad("SRV RDATA too short");
      }
      auto target = read_name(sub, packet.first(end));
      if (!target)
        return target.error().code == "DNS_TRUNCATED" ? bad("SRV target overruns RDATA")
                                                      : target.error();
      if (sub.pos() != end) return bad("SRV RDATA has trailing bytes");
      srv.target = std::move(*target);
      rr.data = std::move(srv);
      r.take(rdlen);
      break;
    }
    case RecordType::kTxt: {
      TxtData txt;
      // Zero-length TXT RDATA means one empty string (RFC 6763 §6.1), as we encode it.
      if (rdlen == 0) txt.entries.emplace_back();
      std::size_t p = start;
      while (p < end) {
        const std::size_t len = packet[p];
        if (p + 1 + len > end) return bad("TXT string overruns RDATA");
        txt.entries.emplace_back(reinterpret_cast<const char*>(packet.data() + p + 1), len);
        p += 1 + len;
      }
      rr.data = std::move(txt);
      r.take(rdlen);
      break;
    }
    default:
      rr.data = RawData{Bytes(packet.begin() + static_cast<std::ptrdiff_t>(start),
                              packet.begin() + static_cast<std::ptrdiff_t>(end))};
      r.take(rdlen);
      break;
  }
  return rr;
}

// A big-endian writer that also compresses names against those already written.
class Writer : public BeWriter {
 public:
  explicit Writer(bool compress = true) : compress_(compress) {}

  Status name(const Name& n) {
    std::size_t wire = 1;
    for (const auto& l : n.labels) {
      if (l.empty() || l.size() > 63) {
        return make_error("DNS_BAD_NAME", "label must be 1..63 bytes: '" + l + "'");
      }
      wire += 1 + l.size();
    }
    if (wire > kMaxNameBytes) return make_error("DNS_BAD_NAME", "name longer than 255 bytes");
    for (std::size_t i = 0; i < n.labels.size(); ++i) {
      Name suffix{std::vector<std::string>(n.labels.begin() + static_cast<std::ptrdiff_t>(i),
                                           n.labels.end())};
      const std::string key = lower_key(suffix);
      auto it = offsets_.find(key);
      if (compress_ && it != offsets_.end()) {
        u16(static_cast<std::uint16_t>(0xC000 | it->second));
        return {};
      }
      if (size() < 0x3FFF) offsets_.emplace(key, size());
      u8(static_cast<std::uint8_t>(n.labels[i].size()));
      str(n.labels[i]);
    }
    u8(0);
    return {};
  }

  Status record(const ResourceRecord& rr) {
    PEAT_TRY_STATUS(name(rr.name));
    u16(rr.type);
    u16(static_cast<std::uint16_t>((rr.rclass & 0x7FFF) | (rr.cache_flush ? 0x8000 : 0)));
    u32(rr.ttl);
    const std::size_t len_at = size();
    u16(0);
    PEAT_TRY_STATUS(rdata(rr.data));
    const std::size_t len = size() - len_at - 2;
    if (len > 0xFFFF) return make_error("DNS_BAD_RDATA", "RDATA longer than 65535 bytes");
    out()[len_at] = static_cast<std::uint8_t>(len >> 8);
    out()[len_at + 1] = static_cast<std::uint8_t>(len);
    return {};
  }

  Status rdata(const RData& data) {
    if (auto* ptr = std::get_if<PtrData>(&data)) {
      PEAT_TRY_STATUS(name(*ptr));
    } else if (auto* srv = std::get_if<SrvData>(&data)) {
      u16(srv->priority);
      u16(srv->weight);
      u16(srv->port);
      PEAT_TRY_STATUS(name(srv->target));  // RFC 6762 §18.14: compression allowed in SRV
    } else if (auto* txt = std::get_if<TxtData>(&data)) {
      if (txt->entries.empty()) u8(0);  // RFC 6763 §6.1: an empty TXT holds one empty string
      for (const auto& e : txt->entries) {
        if (e.size() > 255) return make_error("DNS_BAD_RDATA", "TXT entry longer than 255 bytes");
        u8(static_cast<std::uint8_t>(e.size()));
        str(e);
      }
    } else if (auto* a = std::get_if<AData>(&data)) {
      bytes(*a);
    } else if (auto* aaaa = std::get_if<AaaaData>(&data)) {
      bytes(*aaaa);
    } else {
      const auto& raw = std::get<RawData>(data).bytes;
      bytes(raw);
    }
    return {};
  }

 private:
  bool compress_;
  std::map<std::string, std::size_t> offsets_;
};

}  // namespace

Result<Name> Name::parse(std::string_view dotted) {
  Name n;
  std::string cur;
  bool any = false;
  for (std::size_t i = 0; i < dotted.size(); ++i) {
    char c = dotted[i];
    if (c == '\\') {
      if (i + 1 >= dotted.size()) return make_error("INVALID_NAME", "dangling '\\'");
      cur.push_back(dotted[++i]);
      any = true;
    } else if (c == '.') {
      if (cur.empty())
        return make_error("INVALID_NAME", "empty label in '" + std::string(dotted) + "'");
      n.labels.push_back(std::move(cur));
      cur.clear();
      any = false;
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (any) n.labels.push_back(std::move(cur));
  for (const auto& l : n.labels) {
    if (l.size() > 63) return make_error("INVALID_NAME", "label longer than 63 bytes");
  }
  return n;
}

Name Name::with_prefix(std::string label) const {
  Name n;
  n.labels.reserve(labels.size() + 1);
  n.labels.push_back(std::move(label));
  n.labels.insert(n.labels.end(), labels.begin(), labels.end());
  return n;
}

std::string Name::to_string() const {
  std::string out;
  for (const auto& l : labels) {
    for (char c : l) {
      if (c == '.' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('.');
  }
  return out.empty() ? "." : out;
}

bool Name::equals(const Name& other) const {
  if (labels.size() != other.labels.size()) return false;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!label_equal(labels[i], other.labels[i])) return false;
  }
  return true;
}

bool Name::ends_with(const Name& suffix) const {
  if (suffix.labels.size() > labels.size()) return false;
  const std::size_t off = labels.size() - suffix.labels.size();
  for (std::size_t i = 0; i < suffix.labels.size(); ++i) {
    if (!label_equal(labels[off + i], suffix.labels[i])) return false;
  }
  return true;
}

bool ResourceRecord::same_record(const ResourceRecord& o) const {
  if (type != o.type || rclass != o.rclass || !name.equals(o.name)) return false;
  if (data.index() != o.data.index()) return false;
  if (auto* p = std::get_if<PtrData>(&data)) return p->equals(std::get<PtrData>(o.data));
  if (auto* s = std::get_if<SrvData>(&data)) {
    const auto& t = std::get<SrvData>(o.data);
    return s->priority == t.priority && s->weight == t.weight && s->port == t.port &&
           s->target.equals(t.target);
  }
  if (auto* t = std::get_if<TxtData>(&data)) return t->entries == std::get<TxtData>(o.data).entries;
  if (auto* a = std::get_if<AData>(&data)) return *a == std::get<AData>(o.data);
  if (auto* a6 = std::get_if<AaaaData>(&data)) return *a6 == std::get<AaaaData>(o.data);
  return std::get<RawData>(data).bytes == std::get<RawData>(o.data).bytes;
}

Result<Message> decode_dns_message(ByteView packet) {
  Reader r(packet);
  Message m;
  std::uint16_t qd = 0, an = 0, ns = 0, ar = 0;
  if (!get(r.u16(), m.id) || !get(r.u16(), m.flags) || !get(r.u16(), qd) || !get(r.u16(), an) ||
      !get(r.u16(), ns) || !get(r.u16(), ar)) {
    return truncated("header shorter than 12 bytes");
  }
  // Every question takes at least 5 bytes and every record 11: reject impossible counts before
  // reserving anything.
  const std::size_t min_size = std::size_t{qd} * 5 + (std::size_t{an} + ns + ar) * 11;
  if (min_size > r.remaining()) {
    return make_error("DNS_TOO_MANY", "record counts do not fit the packet");
  }
  for (std::uint16_t i = 0; i < qd; ++i) {
    Question q;
    auto name = read_name(r, packet);
    if (!name) return name.error();
    q.name = std::move(*name);
    std::uint16_t cls = 0;
    if (!get(r.u16(), q.type) || !get(r.u16(), cls)) return truncated("question cut off");
    q.unicast_response = (cls & 0x8000) != 0;
    q.qclass = cls & 0x7FFF;
    m.questions.push_back(std::move(q));
  }
  auto read_section = [&](std::uint16_t count, std::vector<ResourceRecord>& out) -> Status {
    for (std::uint16_t i = 0; i < count; ++i) {
      auto rr = read_record(r, packet);
      if (!rr) return rr.error();
      out.push_back(std::move(*rr));
    }
    return {};
  };
  if (auto s = read_section(an, m.answers); !s) return s.error();
  if (auto s = read_section(ns, m.authorities); !s) return s.error();
  if (auto s = read_section(ar, m.additionals); !s) return s.error();
  if (r.remaining() != 0) return make_error("DNS_TRAILING", "bytes after the last record");
  return m;
}

Result<Bytes> encode_dns_message(const Message& m) {
  if (m.questions.size() > 0xFFFF || m.answers.size() > 0xFFFF || m.authorities.size() > 0xFFFF ||
      m.additionals.size() > 0xFFFF) {
    return make_error("DNS_TOO_MANY", "more than 65535 entries in a section");
  }
  Writer w;
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(static_cast<std::uint16_t>(m.questions.size()));
  w.u16(static_cast<std::uint16_t>(m.answers.size()));
  w.u16(static_cast<std::uint16_t>(m.authorities.size()));
  w.u16(static_cast<std::uint16_t>(m.additionals.size()));
  for (const auto& q : m.questions) {
    PEAT_TRY_STATUS(w.name(q.name));
    w.u16(q.type);
    w.u16(static_cast<std::uint16_t>((q.qclass & 0x7FFF) | (q.unicast_response ? 0x8000 : 0)));
  }
  for (const auto* section : {&m.answers, &m.authorities, &m.additionals}) {
    for (const auto& rr : *section) PEAT_TRY_STATUS(w.record(rr));
  }
  return w.take();
}

Result<Bytes> encode_rdata(const RData& data) {
  Writer w(false);
  PEAT_TRY_STATUS(w.rdata(data));
  return w.take();
}

std::vector<std::pair<std::string, std::string>> parse_txt(const TxtData& txt) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : txt.entries) {
    if (e.empty() || e.front() == '=') continue;
    const auto eq = e.find('=');
    std::string key = e.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : e.substr(eq + 1);
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](const auto& kv) { return label_equal(kv.first, key); });
    if (!dup) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace peat::discovery::dns
