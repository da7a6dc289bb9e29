// Marshalling shared by the C API's files: option structs to their C++ counterparts, C callbacks to
// std::function, C string arrays to vectors, and the version check of caller-declared views.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "breadth.h"
#include "breadth/baco.hpp"
#include "breadth/sampler.hpp"
#include "capi_internal.hpp"

namespace breadth::capi {

/// `count` UTF-8 strings; InvalidArgument naming `what` when the array or an entry is NULL.
std::vector<std::string> strings_of(const char* const* items, size_t count, const char* what);

SamplingOptions sampling_of(const breadth_sampling_options& o, const char* what);
/// The C options (NULL = defaults) as GenerateOptions, callbacks bridged.
GenerateOptions generate_options_of(const breadth_generate_options* o, const char* what);
BacoOptions baco_options_of(const breadth_baco_options* o);
/// A C progress callback as a ProgressCallback (empty when fn is NULL).
ProgressCallback progress_of(breadth_progress_callback fn, void* user_data);

breadth_finish finish_of(FinishReason r);

/// Checks the `version` of a view struct the caller declared with its _INIT macro.
template <typename View>
void check_view(const View* out, unsigned int current, const char* what) {
  BREADTH_C_REQUIRE(out, std::string(what) + ": out must not be NULL");
  BREADTH_C_REQUIRE(out->version >= 1 && out->version <= current,
                    std::string(what) + ": out->version is unknown; declare the struct with its _INIT macro");
}

}  // namespace breadth::capi
