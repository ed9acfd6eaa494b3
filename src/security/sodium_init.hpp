// libsodium must be initialised once before use (it picks the fastest implementations and
// opens the random source). Thread-safe; cheap after the first call.
#pragma once

namespace peat::security::detail {

void ensure_sodium();

}  // namespace peat::security::detail
