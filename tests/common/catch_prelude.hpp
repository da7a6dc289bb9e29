// Force-included first in every test translation unit (tests/CMakeLists.txt).
//
// libtorch's c10 logging header defines a fatal `CHECK(cond)` macro that would silently replace
// Catch2's CHECK whenever a torch header is included after catch.hpp. Including c10's header first,
// dropping its CHECK, and then Catch2 makes CHECK mean Catch2's in every test, whatever the include
// order in the test file (both headers have include guards, so later includes are no-ops).
#pragma once

#if __has_include(<c10/util/Logging.h>)
#include <c10/util/Logging.h>
#undef CHECK
#endif
#include <catch2/catch.hpp>
// The shared test PCH puts <torch/torch.h> before this header: torch/csrc/dynamo/debug_macros.h
// `#undef`s CHECK, which would otherwise erase Catch2's.
