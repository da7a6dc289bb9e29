/*
 * breadth_v1.h (test only): the structs of breadth.h that have changed since their version 1, as
 * they were at version 1, under v1_ names. A program built against the version 1 header passes
 * exactly these bytes to the library; old_client_v1.c does the same through casts, which is what
 * the library sees from such a program.
 *
 * These definitions are frozen copies: never edit them. When a struct of breadth.h gets its first
 * new version, copy its version 1 layout here.
 */
#ifndef BREADTH_TEST_V1_H
#define BREADTH_TEST_V1_H

#include "breadth.h"

/* breadth_sample version 1: no sampling_logprobs. */
typedef struct v1_breadth_sample {
  unsigned int version;
  int64_t prompt_index;
  int64_t sample_index;
  const char* text;
  size_t text_len;
  const int32_t* tokens;
  size_t num_tokens;
  const float* logprobs;
  breadth_finish finish;
} v1_breadth_sample;

/* breadth_generate_options version 1 (before cuda_graph; embedded below by value as it was). */
typedef struct v1_breadth_generate_options {
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
} v1_breadth_generate_options;

/* breadth_answer_set_options version 1: the generation options embedded by value. */
typedef struct v1_breadth_answer_set_options {
  unsigned int version;
  breadth_answer_strategy strategy;
  int64_t budget;
  const double* ratios;
  size_t num_ratios;
  int64_t batch;
  int64_t max_generations;
  v1_breadth_generate_options generation;
} v1_breadth_answer_set_options;

/* breadth_baco_options version 1: no ignore_eos. */
typedef struct v1_breadth_baco_options {
  unsigned int version;
  breadth_sampling_options base_sampling;
  breadth_sampling_options aligned_sampling;
  int64_t num_samples;
  int64_t max_new_tokens;
  uint64_t seed;
  int has_base_seed;
  uint64_t base_seed;
  int64_t first_sample_index;
  int64_t min_new_tokens;
  int64_t max_retries;
  int lazy;
  breadth_token_callback on_token;
  breadth_progress_callback on_progress;
  void* user_data;
} v1_breadth_baco_options;

#endif /* BREADTH_TEST_V1_H */
