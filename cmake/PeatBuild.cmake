# Compiler settings and the helpers every module uses to declare itself.

# -O2: -O3 costs compile time and triggers g++ 12 false-positive warnings for little gain here.
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "" FORCE)
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "" FORCE)

find_program(PEAT_CCACHE ccache)
if(PEAT_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${PEAT_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${PEAT_CCACHE})
endif()

set(PEAT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 reports -Wrestrict and -Wstringop-overflow inside libstdc++'s std::string for plain
  # concatenations (GCC bug 105329/105651), and -Wmismatched-new-delete for the coroutine frames
  # of Asio awaitables; they are false positives.
  list(APPEND PEAT_WARNINGS -Wno-restrict -Wno-stringop-overflow -Wno-mismatched-new-delete)
endif()
if(PEAT_WERROR)
  list(APPEND PEAT_WARNINGS -Werror)
endif()

if(PEAT_SANITIZE)
  # g++ 12 at -O1 with sanitizers reports -Wmaybe-uninitialized inside std::variant's storage
  # (GCC bug 105562 and relatives); the Release build keeps the warning as an error.
  list(APPEND PEAT_WARNINGS -Wno-maybe-uninitialized)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PEAT_FUZZ)
  # Instrument the libraries too, so the fuzzer sees coverage inside them.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (g++ 12).
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-include$<SEMICOLON>utility>)

# peat_module(NAME SOURCES ... DEPS ...): static library peat_<NAME> with public headers in include/.
function(peat_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(peat_${name} STATIC ${M_SOURCES})
  add_library(peat::${name} ALIAS peat_${name})
  target_include_directories(peat_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                          PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(peat_${name} PRIVATE ${PEAT_WARNINGS})
  target_link_libraries(peat_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()

# peat_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(peat_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${PEAT_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "unit;${T_LABELS}")
endfunction()

# peat_fuzzer(NAME SOURCE ... DEPS ...): a libFuzzer target; only with PEAT_FUZZ and clang.
function(peat_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${F_DEPS})
  set_property(GLOBAL APPEND PROPERTY PEAT_FUZZERS ${name})
endfunction()

# Adds every immediate sub-folder of the current folder that has a CMakeLists.txt.
# PEAT_MODULES (a list; empty = all) narrows the build to some folders, e.g. "common;security".
set(PEAT_MODULES "" CACHE STRING "Only build these module folders (empty: all)")
function(peat_add_subdirectories)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(PEAT_MODULES AND NOT child IN_LIST PEAT_MODULES)
      continue()
    endif()
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
