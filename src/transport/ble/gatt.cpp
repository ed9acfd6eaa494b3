#include "peat/transport/ble/gatt.hpp"

#include <cctype>
#include <cstdio>

namespace peat::transport::ble {

std::string characteristic_uuid(Characteristic id) {
  std::string uuid(kServiceUuid);
  char digits[5];
  std::snprintf(digits, sizeof digits, "%04x", static_cast<unsigned>(id));
  uuid.replace(4, 4, digits);
  return uuid;
}

namespace {
bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}
}  // namespace

bool is_service_uuid(std::string_view uuid) {
  return equals_ignore_case(uuid, kServiceUuid) || equals_ignore_case(uuid, kServiceUuid16);
}

}  // namespace peat::transport::ble
