// Thread-local last error and status mapping for the C API.
#include <string>

#include "breadth/version.hpp"
#include "capi_internal.hpp"

namespace breadth::capi {

thread_local std::string t_last_error;  // one slot per thread, read by breadth_last_error()

void set_last_error(const std::string& message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }

breadth_status status_from(const std::exception& e) {
  if (auto* be = dynamic_cast<const breadth::Error*>(&e)) return static_cast<breadth_status>(be->code());
  if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::out_of_range*>(&e))
    return BREADTH_ERR_INVALID_ARGUMENT;
  return BREADTH_ERR_INTERNAL;
}

}  // namespace breadth::capi

extern "C" {

const char* breadth_version(void) { return breadth::version(); }
int breadth_abi_version(void) { return BREADTH_ABI_VERSION; }
const char* breadth_last_error(void) { return breadth::capi::t_last_error.c_str(); }

const char* breadth_status_name(breadth_status status) {
  switch (breadth::capi::c_enum(status)) {
    case BREADTH_OK: return "BREADTH_OK";
    case BREADTH_ERR_INVALID_ARGUMENT: return "BREADTH_ERR_INVALID_ARGUMENT";
    case BREADTH_ERR_IO: return "BREADTH_ERR_IO";
    case BREADTH_ERR_FORMAT: return "BREADTH_ERR_FORMAT";
    case BREADTH_ERR_UNSUPPORTED: return "BREADTH_ERR_UNSUPPORTED";
    case BREADTH_ERR_NUMERIC: return "BREADTH_ERR_NUMERIC";
    case BREADTH_ERR_CANCELLED: return "BREADTH_ERR_CANCELLED";
    case BREADTH_ERR_INTERNAL: return "BREADTH_ERR_INTERNAL";
  }
  return "BREADTH_ERR_UNKNOWN";
}

}  // extern "C"
