// Catch2 for the eval tests. The CHECK clash with c10's logging macro is settled once for every test
// by tests/common/catch_prelude.hpp (force-included first), so nothing may `#undef CHECK` here.
#pragma once

#include <torch/types.h>
#include <catch2/catch.hpp>
