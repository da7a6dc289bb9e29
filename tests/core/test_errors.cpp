#include <catch2/catch.hpp>

#include "core/check.hpp"

TEST_CASE("errors carry their code and a formatted message") {
  try {
    BREADTH_CHECK_ARG(1 + 1 == 3, "temperature must be >= 0, got {}", -1.5);
    FAIL("no throw");
  } catch (const breadth::InvalidArgument& e) {
    CHECK(e.code() == breadth::ErrorCode::kInvalidArgument);
    CHECK(std::string(e.what()) == "temperature must be >= 0, got -1.5");
  }
  CHECK_THROWS_AS(breadth::fail<breadth::FormatError>("bad {}", 1), breadth::Error);
  CHECK_NOTHROW([] { BREADTH_CHECK_FORMAT(true, "never"); }());
}
