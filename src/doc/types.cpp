#include "peat/doc/types.hpp"

namespace peat::doc {

std::string OpId::to_string() const {
  if (counter == 0) return "_root";
  return std::to_string(counter) + "@" + to_hex(actor);
}

}  // namespace peat::doc
