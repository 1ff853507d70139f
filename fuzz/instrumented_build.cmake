# The fuzz tree (-DCW_FUZZ=ON): every project source compiled by clang with
# libFuzzer's coverage hooks, AddressSanitizer and UndefinedBehaviorSanitizer.
# The Debian libraries (RocksDB, Cap'n Proto, ZeroMQ, spdlog) are linked as
# shipped, uninstrumented: a bug inside them is found only where it shows in
# our memory. Header-only code (Cap'n Proto's accessors, nlohmann::json,
# toml++) is compiled into our objects and is instrumented with them.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CW_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14 "
                      "-DCMAKE_C_COMPILER=clang-14 in a build folder of its own (fuzz/build.sh does)")
endif()
# The fuzzers reach no torch and no Python.
set(CW_WITH_TORCH OFF CACHE BOOL "" FORCE)
set(CW_WITH_PYTHON OFF CACHE BOOL "" FORCE)
# -O1: the usual trade for sanitizer builds (fast to compile, stacks still
# readable); -gline-tables-only: all a sanitizer's stack trace reads, and
# cheaper to compile than -g; asserts stay on. Every UB report aborts, so libFuzzer keeps the input.
set(CMAKE_BUILD_TYPE Debug CACHE STRING "" FORCE)
set(CMAKE_CXX_FLAGS_DEBUG "-O1 -gline-tables-only -fno-omit-frame-pointer")
set(CMAKE_C_FLAGS_DEBUG "-O1 -gline-tables-only -fno-omit-frame-pointer")
set(CW_SANITIZERS address,undefined)
add_compile_options(-fsanitize=fuzzer-no-link,${CW_SANITIZERS} -fno-sanitize-recover=all)
add_link_options(-fsanitize=${CW_SANITIZERS})
