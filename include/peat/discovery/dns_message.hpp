// DNS messages as mDNS (RFC 6762) and DNS-SD (RFC 6763) use them: a sans-I/O codec.
// decode_dns_message never reads out of bounds and never loops: compression pointers must point
// strictly before the label that holds them, names are limited to 255 bytes and 128 labels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::discovery::dns {

// A domain name as its labels ("peat-n1", "_peat", "_udp", "local"); a label may hold any byte,
// including '.'. Comparison is ASCII case-insensitive, as DNS requires.
struct Name {
  std::vector<std::string> labels;

  // Splits dotted text on '.', a trailing '.' is optional; "\." and "\\" escape. "INVALID_NAME".
  static Result<Name> parse(std::string_view dotted);
  // Prepends one label (e.g. an instance name) to a name.
  Name with_prefix(std::string label) const;
  // Dotted text with a trailing '.', '.' and '\' inside labels escaped with '\'.
  std::string to_string() const;
  bool equals(const Name& other) const;
  // True if `suffix` is this name's tail (e.g. "_peat._udp.local." of an instance name).
  bool ends_with(const Name& suffix) const;
  bool empty() const { return labels.empty(); }
};

enum class RecordType : std::uint16_t {
  kA = 1,
  kPtr = 12,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
  kNsec = 47,
  kAny = 255,
};
constexpr std::uint16_t kClassIn = 1;

struct Question {
  Name name;
  std::uint16_t type = 0;
  std::uint16_t qclass = kClassIn;
  bool unicast_response = false;  // the QU bit (top bit of the class field)
};

struct SrvData {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  Name target;
};
// TXT: one string per entry (RFC 6763 §6: "key=value" or "key").
struct TxtData {
  std::vector<std::string> entries;
};
using PtrData = Name;
using AData = std::array<std::uint8_t, 4>;
using AaaaData = std::array<std::uint8_t, 16>;
// Any other type: the raw RDATA (names inside are not decompressed).
struct RawData {
  Bytes bytes;
};
using RData = std::variant<PtrData, SrvData, TxtData, AData, AaaaData, RawData>;

struct ResourceRecord {
  Name name;
  std::uint16_t type = 0;
  std::uint16_t rclass = kClassIn;
  bool cache_flush = false;  // top bit of the class field (RFC 6762 §10.2)
  std::uint32_t ttl = 0;
  RData data;

  // Same name, type, class and RDATA (TTL and cache-flush ignored).
  bool same_record(const ResourceRecord& other) const;
};

struct Message {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // 0x8400 = authoritative response
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authorities;
  std::vector<ResourceRecord> additionals;

  bool is_response() const { return (flags & 0x8000) != 0; }
};
constexpr std::uint16_t kResponseFlags = 0x8400;

// Errors: "DNS_TRUNCATED" (runs past the end), "DNS_BAD_NAME" (label type, pointer loop/forward
// pointer, too long), "DNS_BAD_RDATA" (RDATA length or content inconsistent), "DNS_TRAILING" (bytes
// after the last record), "DNS_TOO_MANY" (counts that cannot fit the packet).
Result<Message> decode_dns_message(ByteView packet);
// Encodes with name compression. "DNS_BAD_NAME" for labels longer than 63 bytes or names over 255.
Result<Bytes> encode_dns_message(const Message& message);

// RDATA alone, names uncompressed (the canonical form RFC 6762 §8.2 compares for tie-breaking).
Result<Bytes> encode_rdata(const RData& data);

// "key=value" entries → pairs; "key" alone → value "". Empty entries and entries starting with
// '=' are skipped; the first occurrence of a key wins (RFC 6763 §6.4).
std::vector<std::pair<std::string, std::string>> parse_txt(const TxtData& txt);

}  // namespace peat::discovery::dns
