// The ABI promise of breadth.h, in one place: every versioned struct's layout history, and the
// helpers through which the C layer reads a caller's options, writes a caller's view and fills a
// caller's struct with defaults. Each touches only the bytes of the version the caller states.
//
// Adding a field to a versioned struct of breadth.h:
//   1. append it at the end, with a "/* version N */" comment, and bump its _VERSION macro;
//   2. append the new end to its `ends` below (BREADTH_C_END(struct, new last field));
//   3. give it a default in options.cpp (defaults_of) and read or write it where the struct is used.
// The static_asserts below fail when 1 and 2 disagree.
#pragma once

#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>

#include "capi_internal.hpp"  // breadth.h without its deprecated names

/// Where a field of a C struct ends: the byte count of a version whose last field it is. (Not the
/// offset of the next version's first field: that may lie past the end of the older struct when the
/// new field is more aligned.)
#define BREADTH_C_END(T, field) (offsetof(T, field) + sizeof(static_cast<T*>(nullptr)->field))

namespace breadth::capi {

/// breadth_generate_options as version 1 laid it out (frozen: answer_set_options_v1 embeds it).
struct generate_options_v1 {
  unsigned int version;
  breadth_sampling_options sampling;
  int64_t num_samples;
  int64_t max_new_tokens;
  uint64_t seed;
  int64_t first_sample_index;
  const char* const* stop_strings;
  size_t num_stop_strings;
  int stop_at_eos;
  int apply_chat_template;
  breadth_token_callback on_token;
  breadth_progress_callback on_progress;
  void* user_data;
};

/// Version 1 of breadth_answer_set_options embedded its generation options by value (as their
/// version 1 layout). Still read and written for programs built against that header.
struct answer_set_options_v1 {
  unsigned int version;
  breadth_answer_strategy strategy;
  int64_t budget;
  const double* ratios;
  size_t num_ratios;
  int64_t batch;
  int64_t max_generations;
  generate_options_v1 generation;
};

/// Per struct: its name in messages, how to declare it, and ends[v] = the bytes of version v
/// (ends[0] unused). The current version is std::size(ends) - 1.
template <typename T>
struct StructInfo;

#define BREADTH_C_STRUCT(T, HOW, ...)                                       \
  template <>                                                               \
  struct StructInfo<T> {                                                    \
    static constexpr const char* name = #T;                                 \
    static constexpr const char* how = HOW;                                 \
    static constexpr size_t ends[] = {0, __VA_ARGS__};                      \
  }

// Options (read by the library; filled by *_init).
BREADTH_C_STRUCT(breadth_model_options,
                 "breadth_model_options_init(&options, BREADTH_MODEL_OPTIONS_VERSION) (or the deprecated "
                 "BREADTH_MODEL_OPTIONS_INIT)",
                 BREADTH_C_END(breadth_model_options, dtype), BREADTH_C_END(breadth_model_options, weights));
BREADTH_C_STRUCT(breadth_sampling_options,
                 "breadth_sampling_options_init(&options, BREADTH_SAMPLING_OPTIONS_VERSION) (or the "
                 "deprecated BREADTH_SAMPLING_OPTIONS_INIT)",
                 BREADTH_C_END(breadth_sampling_options, min_p));
BREADTH_C_STRUCT(breadth_generate_options,
                 "breadth_generate_options_init(&options, BREADTH_GENERATE_OPTIONS_VERSION) (or the "
                 "deprecated BREADTH_GENERATE_OPTIONS_INIT)",
                 BREADTH_C_END(breadth_generate_options, user_data),
                 BREADTH_C_END(breadth_generate_options, cuda_graph));
static_assert(sizeof(generate_options_v1) == BREADTH_C_END(breadth_generate_options, user_data),
              "generate_options_v1 is breadth_generate_options' version 1 prefix");
BREADTH_C_STRUCT(breadth_question,
                 "breadth_question_init(&question, BREADTH_QUESTION_VERSION) (or the deprecated "
                 "BREADTH_QUESTION_INIT)",
                 BREADTH_C_END(breadth_question, text_two));
BREADTH_C_STRUCT(breadth_answer_set_options,
                 "breadth_answer_set_options_init(&options, BREADTH_ANSWER_SET_OPTIONS_VERSION) (or the "
                 "deprecated BREADTH_ANSWER_SET_OPTIONS_INIT)",
                 sizeof(answer_set_options_v1),  // another layout: see answer_set_options_v1
                 BREADTH_C_END(breadth_answer_set_options, generation));
BREADTH_C_STRUCT(breadth_baco_options,
                 "breadth_baco_options_init(&options, BREADTH_BACO_OPTIONS_VERSION) (or the deprecated "
                 "BREADTH_BACO_OPTIONS_INIT)",
                 BREADTH_C_END(breadth_baco_options, user_data), BREADTH_C_END(breadth_baco_options, ignore_eos),
                 BREADTH_C_END(breadth_baco_options, base_template), BREADTH_C_END(breadth_baco_options, step));
BREADTH_C_STRUCT(breadth_divcov_options,
                 "breadth_divcov_options_init(&options, BREADTH_DIVCOV_OPTIONS_VERSION) (or the deprecated "
                 "BREADTH_DIVCOV_OPTIONS_INIT)",
                 BREADTH_C_END(breadth_divcov_options, patience));
BREADTH_C_STRUCT(breadth_method_options,
                 "breadth_method_options_init(&options, BREADTH_METHOD_OPTIONS_VERSION)",
                 BREADTH_C_END(breadth_method_options, user_data));
BREADTH_C_STRUCT(breadth_routing_data_options,
                 "breadth_routing_data_options_init(&options, BREADTH_ROUTING_DATA_OPTIONS_VERSION)",
                 BREADTH_C_END(breadth_routing_data_options, user_data));
BREADTH_C_STRUCT(breadth_router_train_options,
                 "breadth_router_train_options_init(&options, BREADTH_ROUTER_TRAIN_OPTIONS_VERSION)",
                 BREADTH_C_END(breadth_router_train_options, user_data));
BREADTH_C_STRUCT(breadth_routing_report_options,
                 "breadth_routing_report_options_init(&options, BREADTH_ROUTING_REPORT_OPTIONS_VERSION)",
                 BREADTH_C_END(breadth_routing_report_options, user_data));
// Views (written by *_get).
BREADTH_C_STRUCT(breadth_sample, "BREADTH_SAMPLE_INIT", BREADTH_C_END(breadth_sample, finish),
                 BREADTH_C_END(breadth_sample, sampling_logprobs));
BREADTH_C_STRUCT(breadth_answer, "BREADTH_ANSWER_INIT", BREADTH_C_END(breadth_answer, generation));
BREADTH_C_STRUCT(breadth_baco_sample, "BREADTH_BACO_SAMPLE_INIT", BREADTH_C_END(breadth_baco_sample, finish));
BREADTH_C_STRUCT(breadth_token_record, "BREADTH_TOKEN_RECORD_INIT",
                 BREADTH_C_END(breadth_token_record, eos_redraws));
BREADTH_C_STRUCT(breadth_baco_summary, "BREADTH_BACO_SUMMARY_INIT", BREADTH_C_END(breadth_baco_summary, retries));
BREADTH_C_STRUCT(breadth_divcov_figures, "BREADTH_DIVCOV_FIGURES_INIT",
                 BREADTH_C_END(breadth_divcov_figures, quality));
BREADTH_C_STRUCT(breadth_method_sample, "BREADTH_METHOD_SAMPLE_INIT", BREADTH_C_END(breadth_method_sample, source));
#undef BREADTH_C_STRUCT

template <typename T>
constexpr unsigned current_version() {
  return static_cast<unsigned>(std::size(StructInfo<T>::ends) - 1);
}

/// The header's _VERSION macro, the layout history and the struct itself agree: one `ends` entry per
/// version, and less than one alignment unit after the last listed field (a forgotten field shows,
/// unless it hides in what was trailing padding).
template <typename T>
constexpr bool consistent(unsigned header_version) {
  constexpr size_t end = StructInfo<T>::ends[std::size(StructInfo<T>::ends) - 1];
  return header_version == current_version<T>() && end <= sizeof(T) && sizeof(T) - end < alignof(T);
}
static_assert(consistent<breadth_model_options>(BREADTH_MODEL_OPTIONS_VERSION));
static_assert(consistent<breadth_sampling_options>(BREADTH_SAMPLING_OPTIONS_VERSION));
static_assert(BREADTH_SAMPLING_OPTIONS_VERSION == 1 &&
                  sizeof(breadth_sampling_options) == BREADTH_C_END(breadth_sampling_options, min_p),
              "breadth_sampling_options is frozen: it is embedded by value, so it may never grow");
static_assert(consistent<breadth_generate_options>(BREADTH_GENERATE_OPTIONS_VERSION));
static_assert(consistent<breadth_question>(BREADTH_QUESTION_VERSION));
static_assert(consistent<breadth_answer_set_options>(BREADTH_ANSWER_SET_OPTIONS_VERSION));
static_assert(consistent<breadth_baco_options>(BREADTH_BACO_OPTIONS_VERSION));
static_assert(consistent<breadth_divcov_options>(BREADTH_DIVCOV_OPTIONS_VERSION));
static_assert(consistent<breadth_method_options>(BREADTH_METHOD_OPTIONS_VERSION));
static_assert(consistent<breadth_routing_data_options>(BREADTH_ROUTING_DATA_OPTIONS_VERSION));
static_assert(consistent<breadth_router_train_options>(BREADTH_ROUTER_TRAIN_OPTIONS_VERSION));
static_assert(consistent<breadth_routing_report_options>(BREADTH_ROUTING_REPORT_OPTIONS_VERSION));
static_assert(consistent<breadth_method_sample>(BREADTH_METHOD_SAMPLE_VERSION));
static_assert(consistent<breadth_sample>(BREADTH_SAMPLE_VERSION));
static_assert(consistent<breadth_answer>(BREADTH_ANSWER_VERSION));
static_assert(consistent<breadth_baco_sample>(BREADTH_BACO_SAMPLE_VERSION));
static_assert(consistent<breadth_token_record>(BREADTH_TOKEN_RECORD_VERSION));
static_assert(consistent<breadth_baco_summary>(BREADTH_BACO_SUMMARY_VERSION));
static_assert(consistent<breadth_divcov_figures>(BREADTH_DIVCOV_FIGURES_VERSION));

/// InvalidArgument unless 1 <= version <= the library's version of T. `what` names the argument
/// ("options", "breadth_generation_get: out").
void refuse_version(const char* what, const char* struct_name, const char* how, unsigned version,
                    unsigned current);
template <typename T>
void check_version(unsigned version, const std::string& what) {
  if (version < 1 || version > current_version<T>())
    refuse_version(what.c_str(), StructInfo<T>::name, StructInfo<T>::how, version, current_version<T>());
}

/// The library's defaults for T at its current version (options.cpp: from the C++ option structs).
template <typename T>
T defaults_of();
template <> breadth_model_options defaults_of<breadth_model_options>();
template <> breadth_sampling_options defaults_of<breadth_sampling_options>();
template <> breadth_generate_options defaults_of<breadth_generate_options>();
template <> breadth_question defaults_of<breadth_question>();
template <> breadth_answer_set_options defaults_of<breadth_answer_set_options>();
template <> breadth_baco_options defaults_of<breadth_baco_options>();
template <> breadth_divcov_options defaults_of<breadth_divcov_options>();
template <> breadth_method_options defaults_of<breadth_method_options>();  // capi/methods.cpp
template <> breadth_routing_data_options defaults_of<breadth_routing_data_options>();
template <> breadth_router_train_options defaults_of<breadth_router_train_options>();
template <> breadth_routing_report_options defaults_of<breadth_routing_report_options>();

/// The bytes of version `version` of T, which must fit in a current T (every version but
/// breadth_answer_set_options 1, which callers handle apart).
template <typename T>
size_t prefix_size(unsigned version) {
  const size_t n = StructInfo<T>::ends[version];
  if (n > sizeof(T))
    throw Error(std::string(StructInfo<T>::name) + " version " + std::to_string(version) +
                " has another layout and must be handled apart");
  return n;
}

/// The caller's options as a current-version struct: the fields the caller's version has are the
/// caller's, the rest the library's defaults. NULL = all defaults. (Not for breadth_answer_set_options
/// version 1, whose layout differs: see generate.cpp.)
template <typename T>
T read_options(const T* in, const std::string& what) {
  T o = defaults_of<T>();
  if (!in) return o;
  check_version<T>(in->version, what);
  std::memcpy(static_cast<void*>(&o), in, prefix_size<T>(in->version));
  o.version = current_version<T>();
  return o;
}

/// Checks a caller's view before it is filled (non-NULL, a version the library knows).
template <typename T>
void check_view(const T* out, const char* fn) {
  BREADTH_C_REQUIRE(out, std::string(fn) + ": out must not be NULL");
  check_version<T>(out->version, std::string(fn) + ": out");
}

/// Copies the fields of the caller's version from `full` into the caller's view; nothing past them.
template <typename T>
void write_view(T* out, T full) {
  full.version = out->version;
  std::memcpy(static_cast<void*>(out), &full, prefix_size<T>(out->version));
}

/// The body of every *_init: the library's defaults, written for the caller's `version` only.
template <typename T>
void init_struct(T* out, unsigned version, const char* fn) {
  BREADTH_C_REQUIRE(out, std::string(fn) + ": the struct to fill must not be NULL");
  check_version<T>(version, std::string(fn) + ": version");
  out->version = version;
  write_view(out, defaults_of<T>());
}

}  // namespace breadth::capi
