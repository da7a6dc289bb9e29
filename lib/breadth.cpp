#include "breadth/version.hpp"

namespace breadth {
const char* version() noexcept { return BREADTH_VERSION_STRING; }
}  // namespace breadth
