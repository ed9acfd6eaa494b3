// Invariant check for fuzz targets: a violated property is a crash the fuzzer reports.
#pragma once

#include <cstdio>
#include <cstdlib>

#define PEAT_FUZZ_CHECK(cond)                                     \
  do {                                                            \
    if (!(cond)) {                                                \
      std::fprintf(stderr, "fuzz invariant failed: %s\n", #cond); \
      std::abort();                                               \
    }                                                             \
  } while (0)
