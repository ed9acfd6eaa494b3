#include "peat/security/callsign.hpp"

#include "peat/security/errors.hpp"

namespace peat::security {

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

Error invalid(std::string_view text) {
  return security_error(errc::kInvalidCallsign,
                        "invalid callsign format: '" + std::string(text) +
                            "' (expected NATO word, '-', two digits, e.g. ALPHA-07)");
}
}  // namespace

Result<Callsign> Callsign::parse(std::string_view text) {
  std::string_view t = trim(text);
  if (t.size() < 4 || t.size() > kMaxLength) return invalid(text);
  std::size_t dash = t.size() - 3;
  if (t[dash] != '-') return invalid(text);
  char d1 = t[dash + 1], d2 = t[dash + 2];
  if (d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9') return invalid(text);
  std::string_view word = t.substr(0, dash);
  for (std::size_t i = 0; i < kNatoAlphabet.size(); ++i) {
    std::string_view candidate = kNatoAlphabet[i];
    if (candidate.size() != word.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < word.size() && same; ++k)
      same = ascii_upper(word[k]) == candidate[k];
    if (same) {
      return Callsign{static_cast<std::uint8_t>(i),
                      static_cast<std::uint8_t>((d1 - '0') * 10 + (d2 - '0'))};
    }
  }
  return invalid(text);
}

std::string Callsign::to_string() const {
  std::string out(kNatoAlphabet[word]);
  out.push_back('-');
  out.push_back(static_cast<char>('0' + number / 10));
  out.push_back(static_cast<char>('0' + number % 10));
  return out;
}

Result<Callsign> CallsignGenerator::generate() {
  std::size_t free = available_count();
  if (free == 0) {
    return security_error(errc::kCallsignsExhausted, "all 2600 callsigns are in use");
  }
  // The pick-th free slot, so every free callsign is equally likely and no retry loop is needed.
  auto pick = static_cast<std::size_t>(rng_.uniform(free));
  for (std::size_t i = 0; i < Callsign::kTotal; ++i) {
    if (used_[i]) continue;
    if (pick-- == 0) {
      used_.set(i);
      return Callsign{static_cast<std::uint8_t>(i / 100), static_cast<std::uint8_t>(i % 100)};
    }
  }
  return security_error(errc::kInternalError, "callsign table inconsistent");
}

Result<Callsign> CallsignGenerator::reserve(std::string_view text) {
  auto cs = Callsign::parse(text);
  if (!cs) return cs.error();
  if (used_[cs->index()]) {
    return security_error(errc::kCallsignInUse, "callsign already in use: " + cs->to_string());
  }
  used_.set(cs->index());
  return cs;
}

bool CallsignGenerator::release(std::string_view text) {
  auto cs = Callsign::parse(text);
  if (!cs || !used_[cs->index()]) return false;
  used_.reset(cs->index());
  return true;
}

bool CallsignGenerator::is_available(std::string_view text) const {
  auto cs = Callsign::parse(text);
  return cs && !used_[cs->index()];
}

}  // namespace peat::security
