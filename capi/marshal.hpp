// Marshalling shared by the C API's files: option structs to their C++ counterparts, C callbacks to
// std::function, C string arrays to vectors, and C enums to C++ ones and back. How a caller's
// versioned struct is read or written is versioned.hpp's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capi_internal.hpp"  // breadth.h without its deprecated names
#include "breadth/answer_set.hpp"
#include "breadth/baco.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"

namespace breadth::capi {

/// `count` UTF-8 strings; InvalidArgument naming `what` when the array or an entry is NULL.
std::vector<std::string> strings_of(const char* const* items, size_t count, const char* what);

/// A (frozen, embedded) sampling struct; InvalidArgument naming `what` for an unknown version.
SamplingOptions sampling_of(const breadth_sampling_options& o, const std::string& what);
/// The C options (NULL = the library's defaults) as GenerateOptions, callbacks bridged. Reads only
/// the fields of the caller's version.
GenerateOptions generate_options_of(const breadth_generate_options* o, const std::string& what);
/// Same for BACO.
BacoOptions baco_options_of(const breadth_baco_options* o);
/// A C progress callback as a ProgressCallback (empty when fn is NULL).
ProgressCallback progress_of(breadth_progress_callback fn, void* user_data);

breadth_finish finish_of(FinishReason r);

/// From an incoming enum read by c_enum; InvalidArgument for a value outside it.
torch::ScalarType scalar_type_of(int d);
breadth_dtype dtype_of(torch::ScalarType t);
QuestionKind question_kind_of(int k);
breadth_question_kind question_kind_of(QuestionKind k);
AnswerStrategy strategy_of(int s);
breadth_answer_strategy strategy_of(AnswerStrategy s);

}  // namespace breadth::capi
