// A fresh folder under /tmp for one test, removed with everything in it when the test ends.
// Header-only; include as "support/scratch_dir.hpp".
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace peat::test {

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    char tmpl[] = "/tmp/peat_test_XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

}  // namespace peat::test
