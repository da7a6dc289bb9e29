/*
 * breadth.h: the stable C API of breadth.
 *
 * Conventions, stated once (as in libgit2):
 *
 *  - Every function returns a breadth_status, except the free functions (void), the version
 *    queries, breadth_last_error and breadth_status_name. BREADTH_OK (0) is success; on failure the calling
 *    thread's last-error message (breadth_last_error()) says what went wrong and how to fix it. The
 *    message stays valid until the next breadth call on the same thread.
 *  - Objects are opaque handles created by breadth_*_create/load and released by the matching
 *    breadth_*_free. Every free function accepts NULL. A handle may be used from several threads only
 *    where its section says so.
 *  - Ownership: a `const char*` or array returned inside a result struct belongs to that struct and is
 *    released by the struct's free function. Pointers passed in are borrowed for the duration of the
 *    call only, unless a comment says otherwise.
 *  - Versioned structs (the ABI promise; docs/c-api.md, "Versions and the ABI", states it in full).
 *    A struct that starts with `unsigned int version` has a layout per version that never changes
 *    once released: a new version only appends fields at the end (the one exception so far,
 *    breadth_answer_set_options version 2, is listed there, and version 1 is still read). Such a
 *    struct never embeds another versioned struct that may grow: it points to it, or the embedded
 *    struct is frozen (breadth_sampling_options). The library reads and writes only the fields of
 *    the version the caller states, takes its own defaults for the fields a caller's version lacks,
 *    and refuses a version it does not know (0, or newer than the library) with
 *    BREADTH_ERR_INVALID_ARGUMENT and a message naming the struct and both versions.
 *  - Option structs are filled with the library's defaults by their *_init function, e.g.
 *    breadth_baco_options_init(&options, BREADTH_BACO_OPTIONS_VERSION), which sets `version`; then
 *    change the fields you need. The defaults are those of the library you run against (they live
 *    once, in the C++ option structs). The older BREADTH_*_OPTIONS_INIT macros are deprecated: they
 *    are a compile-time copy of this header's defaults (tests/capi checks that they match).
 *  - Results are opaque handles too; their contents are read through *_get functions that fill a
 *    caller-declared view struct (declare it with its _INIT macro, which only sets the version: it
 *    tells the library which fields the caller knows, and only those are written). Pointers inside
 *    a view are borrowed from the result handle and stay valid until that handle is freed.
 *  - Structs without a version (breadth_tokens, breadth_floats) are frozen. Structs the library
 *    hands to a callback (breadth_token_event, breadth_step_view) are the library's memory; they may
 *    grow at the end, and a caller reads the fields its header has.
 *  - Defining BREADTH_NO_DEPRECATED before including this header hides the deprecated names.
 *  - Callbacks receive the `user_data` pointer given with them. A progress callback returns nonzero
 *    to continue and zero to cancel the run (the call then returns BREADTH_ERR_CANCELLED and no
 *    result). A token callback returning zero ends only the sample it was called for (its finish
 *    reason is then BREADTH_FINISH_CALLBACK); the others go on. Callbacks run on the calling thread.
 *
 * The header is C99 and compiles with -std=c99 -pedantic -Werror.
 */
#ifndef BREADTH_H
#define BREADTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define BREADTH_API __declspec(dllexport)
#else
#define BREADTH_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------------------
 * Versions
 * --------------------------------------------------------------------------------------------- */

#define BREADTH_C_VERSION_MAJOR 0
#define BREADTH_C_VERSION_MINOR 1
#define BREADTH_C_VERSION_PATCH 0
/* Bumped whenever a struct layout or a function signature changes incompatibly. */
#define BREADTH_ABI_VERSION 1

/* The library's version string ("0.1.0"), static storage. */
BREADTH_API const char* breadth_version(void);
/* The ABI version the library was built with; compare with BREADTH_ABI_VERSION. */
BREADTH_API int breadth_abi_version(void);

/* ------------------------------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------------------------------- */

typedef enum breadth_status {
  BREADTH_OK = 0,
  BREADTH_ERR_INVALID_ARGUMENT = 1, /* a parameter out of range, a wrong shape, an unknown name */
  BREADTH_ERR_IO = 2,               /* a file missing or unreadable */
  BREADTH_ERR_FORMAT = 3,           /* a file corrupt, truncated or not what it claims */
  BREADTH_ERR_UNSUPPORTED = 4,      /* valid input breadth does not handle */
  BREADTH_ERR_NUMERIC = 5,          /* NaN/Inf where a probability was expected */
  BREADTH_ERR_CANCELLED = 6,        /* a callback returned 0 */
  BREADTH_ERR_INTERNAL = 7          /* a bug; please report it with the message */
} breadth_status;

/* The calling thread's last error message ("" when the last call succeeded). Thread-local storage,
 * valid until the next breadth call on this thread; do not free. */
BREADTH_API const char* breadth_last_error(void);
/* A short constant name for a status ("BREADTH_ERR_IO"). */
BREADTH_API const char* breadth_status_name(breadth_status status);

/* ------------------------------------------------------------------------------------------------
 * Models
 * --------------------------------------------------------------------------------------------- */

typedef struct breadth_model breadth_model; /* a loaded causal LM and its tokenizer; thread-safe */

typedef enum breadth_dtype {
  BREADTH_DTYPE_FLOAT32 = 0,
  BREADTH_DTYPE_BFLOAT16 = 1,
  BREADTH_DTYPE_FLOAT16 = 2
} breadth_dtype;

/* How a GGUF file's quantized weights are held (ModelOptions::weights, docs/runtime.md). */
typedef enum breadth_weight_format {
  /* Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 and Q2_K..Q6_K stay quantized (CPU); the rest expanded */
  BREADTH_WEIGHTS_NATIVE = 0,
  BREADTH_WEIGHTS_FLOAT = 1   /* every weight expanded to dtype at load */
} breadth_weight_format;

#define BREADTH_MODEL_OPTIONS_VERSION 2
typedef struct breadth_model_options {
  unsigned int version;
  const char* device; /* "cpu", "cuda", "cuda:1"; NULL means "cpu" */
  breadth_dtype dtype;
  breadth_weight_format weights; /* version 2 */
} breadth_model_options;
/* Fills the fields of `version` (normally BREADTH_MODEL_OPTIONS_VERSION) with the library's defaults
 * and sets options->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_model_options_init(breadth_model_options* options, unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_model_options_init. */
#define BREADTH_MODEL_OPTIONS_INIT {BREADTH_MODEL_OPTIONS_VERSION, NULL, BREADTH_DTYPE_FLOAT32, BREADTH_WEIGHTS_NATIVE}
#endif

/* Loads a Hugging Face checkpoint directory or a GGUF file. On success *out owns the model; release
 * it with breadth_model_free. `options` may be NULL for the defaults. */
BREADTH_API breadth_status breadth_model_load(const char* path, const breadth_model_options* options,
                                              breadth_model** out);
BREADTH_API void breadth_model_free(breadth_model* model);
/* Vocabulary size of the model's output layer. */
BREADTH_API breadth_status breadth_model_vocab_size(const breadth_model* model, int32_t* out);
/* Bytes of parameters the model holds in memory: float weights at their dtype, a GGUF's blocks kept
 * quantized (BREADTH_WEIGHTS_NATIVE) at their integer codes and scales. */
BREADTH_API breadth_status breadth_model_weight_bytes(const breadth_model* model, int64_t* out);

/* ------------------------------------------------------------------------------------------------
 * Tokens
 * --------------------------------------------------------------------------------------------- */

/* An array of token ids owned by the library; release with breadth_tokens_free. */
typedef struct breadth_tokens {
  int32_t* ids;
  size_t count;
} breadth_tokens;

/* Encodes UTF-8 `text` with the model's tokenizer. `add_special` adds what the tokenizer's
 * post-processor adds (e.g. BOS). `chat` renders the model's chat template around the text first. */
BREADTH_API breadth_status breadth_tokenize(const breadth_model* model, const char* text,
                                            int add_special, int chat, breadth_tokens* out);
BREADTH_API void breadth_tokens_free(breadth_tokens* tokens);

/* Decodes ids into UTF-8. *out is allocated by the library; release with breadth_string_free. */
BREADTH_API breadth_status breadth_detokenize(const breadth_model* model, const int32_t* ids,
                                              size_t count, int skip_special, char** out);
BREADTH_API void breadth_string_free(char* s);

/* ------------------------------------------------------------------------------------------------
 * Sampling and generation
 * --------------------------------------------------------------------------------------------- */

/* The standard transforms, applied in this order. Defaults leave the distribution untouched.
 * FROZEN: this struct is embedded by value in breadth_generate_options and breadth_baco_options, so
 * it never grows and its version stays 1. A new sampling setting is appended to the structs that
 * embed it instead. */
#define BREADTH_SAMPLING_OPTIONS_VERSION 1
typedef struct breadth_sampling_options {
  unsigned int version;
  double temperature; /* >= 0; 0 = greedy */
  int64_t top_k;      /* >= 0; 0 = off */
  double top_p;       /* in (0, 1]; 1 = off */
  double min_p;       /* in [0, 1); 0 = off */
} breadth_sampling_options;
/* The library's defaults of the transforms on their own (the structs that embed this one have their
 * own: BACO's candidate samplers use top-p 0.9). `version` must be 1. */
BREADTH_API breadth_status breadth_sampling_options_init(breadth_sampling_options* options,
                                                         unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_sampling_options_init. */
#define BREADTH_SAMPLING_OPTIONS_INIT {BREADTH_SAMPLING_OPTIONS_VERSION, 1.0, 0, 1.0, 0.0}
#endif

/* Which model emitted a token. Plain generation reports BREADTH_SOURCE_MODEL. */
typedef enum breadth_source {
  BREADTH_SOURCE_ALIGNED = 0,
  BREADTH_SOURCE_BASE = 1,
  BREADTH_SOURCE_MODEL = 2
} breadth_source;

/* One streamed token. Everything it points to is borrowed for the duration of the callback. */
typedef struct breadth_token_event {
  int64_t row;         /* the sample's index in the result */
  int32_t id;          /* token id in the vocabulary of the model that emitted it */
  const char* text;    /* newly completed UTF-8 text (NUL-terminated; may be empty) */
  size_t text_len;
  breadth_source source;
} breadth_token_event;

/* Returns nonzero to continue the sample, zero to end it (finish BREADTH_FINISH_CALLBACK). */
typedef int (*breadth_token_callback)(const breadth_token_event* event, void* user_data);
/* (work done, total, label); returns zero to cancel the whole call (BREADTH_ERR_CANCELLED). */
typedef int (*breadth_progress_callback)(int64_t done, int64_t total, const char* label,
                                         void* user_data);

typedef enum breadth_finish {
  BREADTH_FINISH_EOS = 0,      /* the model produced an end-of-sequence token */
  BREADTH_FINISH_STOP = 1,     /* a stop string appeared (the text is cut before it) */
  BREADTH_FINISH_LENGTH = 2,   /* max_new_tokens reached */
  BREADTH_FINISH_CALLBACK = 3  /* the token callback returned 0 */
} breadth_finish;

#define BREADTH_GENERATE_OPTIONS_VERSION 2
typedef struct breadth_generate_options {
  unsigned int version;
  breadth_sampling_options sampling;
  int64_t num_samples;       /* n independent samples per prompt, decoded as one batch */
  int64_t max_new_tokens;
  uint64_t seed;             /* sample i of a prompt is the same alone or in any batch */
  int64_t first_sample_index;
  const char* const* stop_strings; /* borrowed; may be NULL when num_stop_strings is 0 */
  size_t num_stop_strings;
  int stop_at_eos;           /* nonzero: stop at the tokenizer's end-of-sequence ids */
  int apply_chat_template;   /* nonzero: render each prompt as one user turn of the chat template */
  breadth_token_callback on_token;       /* may be NULL */
  breadth_progress_callback on_progress; /* may be NULL */
  void* user_data;                       /* passed to both callbacks */
  /* version 2 */
  int cuda_graph;            /* nonzero: decode with the fixed-shape step, captured as a CUDA graph
                                on a GPU (GenerateOptions::cuda_graph; the same tokens) */
} breadth_generate_options;
/* Fills the fields of `version` (normally BREADTH_GENERATE_OPTIONS_VERSION) with the library's
 * defaults and sets options->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_generate_options_init(breadth_generate_options* options,
                                                         unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_generate_options_init. */
#define BREADTH_GENERATE_OPTIONS_INIT                                                       \
  {BREADTH_GENERATE_OPTIONS_VERSION, BREADTH_SAMPLING_OPTIONS_INIT, 1, 256, 0, 0, NULL, 0, 1, 1, \
   NULL, NULL, NULL, 0}
#endif

typedef struct breadth_generation breadth_generation; /* a generate() result */

/* A view of one sample; pointers are borrowed from the breadth_generation. */
#define BREADTH_SAMPLE_VERSION 2
typedef struct breadth_sample {
  unsigned int version;
  int64_t prompt_index;
  int64_t sample_index;     /* first_sample_index + i */
  const char* text;         /* decoded text, special tokens skipped, NUL-terminated */
  size_t text_len;
  const int32_t* tokens;    /* generated ids (EOS included when it ended the sample) */
  size_t num_tokens;
  const float* logprobs;    /* log P(token | prefix) under the untempered model, num_tokens entries */
  breadth_finish finish;
  /* version 2 */
  const float* sampling_logprobs; /* log of the probability each token was drawn with (after the
                                     transforms; 0 for greedy), num_tokens entries */
} breadth_sample;
#define BREADTH_SAMPLE_INIT {BREADTH_SAMPLE_VERSION, 0, 0, NULL, 0, NULL, 0, NULL, BREADTH_FINISH_EOS, NULL}

/* n samples for each of `num_prompts` UTF-8 prompts. On success *out owns the result (release with
 * breadth_generation_free); samples are prompt-major: prompt p, sample i at p * n + i. */
BREADTH_API breadth_status breadth_generate(const breadth_model* model, const char* const* prompts,
                                            size_t num_prompts,
                                            const breadth_generate_options* options,
                                            breadth_generation** out);
BREADTH_API void breadth_generation_free(breadth_generation* generation);
BREADTH_API breadth_status breadth_generation_count(const breadth_generation* generation, size_t* out);
BREADTH_API breadth_status breadth_generation_get(const breadth_generation* generation, size_t index,
                                                  breadth_sample* out);

/* ------------------------------------------------------------------------------------------------
 * Answer sets (router paper §3): ask models for many answers, parse them, repeat until B
 * --------------------------------------------------------------------------------------------- */

typedef enum breadth_answer_strategy {
  BREADTH_STRATEGY_ONE = 0, /* one answer per generation */
  BREADTH_STRATEGY_TWO = 1, /* two */
  BREADTH_STRATEGY_ALL = 2  /* "list all the possible answers you can think of" (the default) */
} breadth_answer_strategy;

typedef enum breadth_question_kind {
  BREADTH_QUESTION_OPEN = 0, /* free-form answers as {"answer-id": k, "content": "..."} objects */
  BREADTH_QUESTION_FIXED = 1 /* a closed set of short answers as {a, b, ...} */
} breadth_question_kind;

/* Which reading of a generation gave its answers (breadth_answer_set_parser_count). */
typedef enum breadth_answer_parser {
  BREADTH_PARSER_NONE = 0,   /* nothing was read: the generation failed */
  BREADTH_PARSER_JSON = 1,   /* open-ended: the requested "content" fields */
  BREADTH_PARSER_BRACES = 2, /* fixed-answer: the requested {a, b, ...} groups */
  BREADTH_PARSER_LIST = 3,   /* fallback: a bulleted or numbered list, one answer per item */
  BREADTH_PARSER_LINE = 4    /* fixed-answer fallback: one short comma-separated line */
} breadth_answer_parser;

#define BREADTH_QUESTION_VERSION 1
typedef struct breadth_question {
  unsigned int version;
  const char* text;          /* the question as a user would ask it (required) */
  breadth_question_kind kind;
  const char* item;          /* fixed answers: the unit of one answer ("day"); NULL = "answer" */
  const char* items;         /* its plural ("days"); NULL = "answers" */
  const char* text_one;      /* optional rewording for generate-one; NULL = text */
  const char* text_two;      /* optional rewording for generate-two; NULL = text */
} breadth_question;
/* Fills the fields of `version` (normally BREADTH_QUESTION_VERSION) with the library's defaults and
 * sets question->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_question_init(breadth_question* question, unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_question_init. */
#define BREADTH_QUESTION_INIT {BREADTH_QUESTION_VERSION, NULL, BREADTH_QUESTION_OPEN, NULL, NULL, NULL, NULL}
#endif

/* Version 2 points to its generation options; version 1 embedded them by value as its last field
 * (a layout the library still reads and writes for programs built against it). */
#define BREADTH_ANSWER_SET_OPTIONS_VERSION 2
typedef struct breadth_answer_set_options {
  unsigned int version;
  breadth_answer_strategy strategy;
  int64_t budget;            /* B: answers to collect over all models */
  const double* ratios;      /* share of the budget per model (normalised); NULL = equal shares */
  size_t num_ratios;         /* 0, or the number of models */
  int64_t batch;             /* generations per model and round */
  int64_t max_generations;   /* retry budget per model; 0 = automatic */
  /* Sampling, seed, lengths, chat template, callbacks; borrowed for the call. NULL = the library's
   * defaults for answer sets (breadth::AnswerSetOptions::generation, which leaves room for a whole
   * answer list); breadth_generate_options_init gives plain generation's. num_samples and
   * first_sample_index are set by the collector. */
  const breadth_generate_options* generation;
} breadth_answer_set_options;
/* Fills the fields of `version` (normally BREADTH_ANSWER_SET_OPTIONS_VERSION) with the library's
 * defaults and sets options->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_answer_set_options_init(breadth_answer_set_options* options,
                                                           unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_answer_set_options_init. */
#define BREADTH_ANSWER_SET_OPTIONS_INIT \
  {BREADTH_ANSWER_SET_OPTIONS_VERSION, BREADTH_STRATEGY_ALL, 50, NULL, 0, 10, 0, NULL}
#endif

typedef struct breadth_answer_set breadth_answer_set;

#define BREADTH_ANSWER_VERSION 1
typedef struct breadth_answer {
  unsigned int version;
  const char* text;     /* borrowed from the answer set, NUL-terminated */
  size_t text_len;
  int64_t model;        /* index into the models passed in */
  int64_t generation;   /* which of that model's generations it came from */
} breadth_answer;
#define BREADTH_ANSWER_INIT {BREADTH_ANSWER_VERSION, NULL, 0, 0, 0}

/* Samples each model in turn until it has its share of the budget or its retry budget is spent.
 * `models` is borrowed. On success *out owns the set (release with breadth_answer_set_free). */
BREADTH_API breadth_status breadth_collect_answers(const breadth_model* const* models, size_t num_models,
                                                   const breadth_question* question,
                                                   const breadth_answer_set_options* options,
                                                   breadth_answer_set** out);
BREADTH_API void breadth_answer_set_free(breadth_answer_set* set);
BREADTH_API breadth_status breadth_answer_set_count(const breadth_answer_set* set, size_t* out);
BREADTH_API breadth_status breadth_answer_set_get(const breadth_answer_set* set, size_t index,
                                                  breadth_answer* out);
/* *out = nonzero when every model reached its share of the budget. */
BREADTH_API breadth_status breadth_answer_set_complete(const breadth_answer_set* set, int* out);
/* Generations model `model` took, and how many of them gave no answer. */
BREADTH_API breadth_status breadth_answer_set_model_stats(const breadth_answer_set* set, size_t model,
                                                          int64_t* generations,
                                                          int64_t* failed_generations);
/* *out = how many of model `model`'s generations `parser` read (BREADTH_PARSER_NONE: failed ones). */
BREADTH_API breadth_status breadth_answer_set_parser_count(const breadth_answer_set* set, size_t model,
                                                           breadth_answer_parser parser, int64_t* out);

/* ------------------------------------------------------------------------------------------------
 * BACO decoding: a base and an aligned model write one text together
 * --------------------------------------------------------------------------------------------- */

typedef struct breadth_rule breadth_rule; /* a BACO rule; immutable, thread-safe */
typedef struct breadth_baco breadth_baco; /* a decoder over two models; thread-safe */
typedef struct breadth_baco_result breadth_baco_result;

/* Which model's candidate a rule picks at a word boundary (C++: breadth::BacoChoice). */
typedef enum breadth_baco_choice {
  BREADTH_BACO_CHOICE_ALIGNED = 0,
  BREADTH_BACO_CHOICE_BASE = 1
} breadth_baco_choice;
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated names ("route" now means only the query router). Same values; the enum tag
 * `enum breadth_route` is gone, the typedef remains. */
typedef breadth_baco_choice breadth_route;
#define BREADTH_ROUTE_ALIGNED BREADTH_BACO_CHOICE_ALIGNED
#define BREADTH_ROUTE_BASE BREADTH_BACO_CHOICE_BASE
#endif

/* What a rule reads (bit flags): a rule that reads only the base model lets the decoder skip the
 * aligned model's forward pass on many steps. */
#define BREADTH_NEEDS_BASE 1u
#define BREADTH_NEEDS_ALIGNED 2u
#define BREADTH_NEEDS_BOTH 3u

/* The statistics a rule sees at one step of one sample (probabilities from the untempered softmax;
 * entropies in nats). A statistic of a model the rule did not ask for is NaN and its ids are -1.
 * Strings are borrowed for the duration of the callback. */
typedef struct breadth_step_view {
  int has_base, has_aligned;
  float p_base_max, p_aligned_max;
  float h_base, h_aligned;
  int32_t base_candidate;     /* base vocabulary */
  int32_t aligned_candidate;  /* aligned vocabulary */
  int32_t aligned_top1;
  int base_candidate_punct, base_candidate_function;
  int aligned_top1_punct, aligned_top1_function;
  double u;                   /* U(0,1) from the request's generator, fresh every step */
  int64_t position;           /* index of the token being decided (0 = first) */
  int64_t row;                /* the sample's row in the batch */
  const char* prompt;         /* the user's prompt, untemplated (not NUL-terminated: use the length) */
  size_t prompt_len;
  const char* generated;      /* text of the sample so far (not NUL-terminated: use the length) */
  size_t generated_len;
} breadth_step_view;

/* A rule written in C: returns BREADTH_BACO_CHOICE_BASE or BREADTH_BACO_CHOICE_ALIGNED. Any other value fails
 * the run with BREADTH_ERR_INVALID_ARGUMENT. Called only at word boundaries (the decoder enforces
 * BACO's invariants around it), possibly many times per step, on the thread that called generate. */
typedef int (*breadth_rule_callback)(const breadth_step_view* step, void* user_data);

/* A rule from its name: "p-punc:0.3", "rand:0.5", "punc", "h-fc:1.2", cascades "X-Y" (Y checked
 * first). Release with breadth_rule_free. */
BREADTH_API breadth_status breadth_rule_parse(const char* spec, breadth_rule** out);
/* A rule implemented by `fn`. `needs` is a BREADTH_NEEDS_* mask of what it reads. `user_data` is
 * borrowed: it must outlive the rule and every run that uses it. */
BREADTH_API breadth_status breadth_rule_from_callback(const char* name, breadth_rule_callback fn,
                                                      unsigned int needs, void* user_data,
                                                      breadth_rule** out);
/* A cascade: stage i chooses aligned -> aligned; otherwise the next stage decides. The stages are
 * copied (shared), so they may be freed afterwards. `name` may be NULL. */
BREADTH_API breadth_status breadth_rule_cascade(const breadth_rule* const* stages, size_t num_stages,
                                                const char* name, breadth_rule** out);
BREADTH_API void breadth_rule_free(breadth_rule* rule);
/* The rule's name ("p-punc:0.3"); *out is owned by the rule. */
BREADTH_API breadth_status breadth_rule_name(const breadth_rule* rule, const char** out);

/* A decoder over two loaded models (borrowed: they are shared, so they may be freed afterwards).
 * Each model keeps the device and dtype it was loaded with (breadth_model_options): base and aligned
 * may be on different devices ("cpu" and "cuda", or two GPUs); the step is decided on the aligned
 * model's device (docs/baco.md, "Two devices"). */
BREADTH_API breadth_status breadth_baco_create(const breadth_model* base, const breadth_model* aligned,
                                               breadth_baco** out);
BREADTH_API void breadth_baco_free(breadth_baco* baco);
/* *out = nonzero when the two models share a vocabulary (ids pass directly; otherwise text
 * hand-off at word boundaries). */
BREADTH_API breadth_status breadth_baco_shared_vocabulary(const breadth_baco* baco, int* out);

/* Where a BACO step's decisions are made (breadth::BacoStep): both emit the same tokens. */
typedef enum breadth_baco_step {
  BREADTH_BACO_STEP_AUTO = 0,        /* resident where it applies on a GPU, else host-driven */
  BREADTH_BACO_STEP_HOST_DRIVEN = 1, /* the host reads candidates and routes as decisions need them */
  BREADTH_BACO_STEP_RESIDENT = 2     /* one host read a step (lazy = 0, a shared vocabulary and a
                                        rule that reads no text; otherwise an error) */
} breadth_baco_step;

#define BREADTH_BACO_OPTIONS_VERSION 4
typedef struct breadth_baco_options {
  unsigned int version;
  breadth_sampling_options base_sampling;    /* default T = 1, top-p = 0.9 (BACO Appendix D) */
  breadth_sampling_options aligned_sampling; /* same */
  int64_t num_samples;       /* n per prompt (default 10) */
  int64_t max_new_tokens;    /* EOS included (default 256) */
  uint64_t seed;
  int has_base_seed;         /* nonzero: base_seed is used, else a fixed mix of seed */
  uint64_t base_seed;
  int64_t first_sample_index;
  int64_t min_new_tokens;    /* regenerate samples ending shorter (BACO §6.2); 0 = off */
  int64_t max_retries;
  int lazy;                  /* nonzero: compute a model's distribution only where needed */
  breadth_token_callback on_token;
  breadth_progress_callback on_progress;
  void* user_data;
  /* version 2 */
  int ignore_eos;            /* nonzero: EOS is masked from both models (every sample runs
                                max_new_tokens; for benchmarks) */
  /* version 3 */
  const char* base_template; /* the base model's prompt as a format string: {prompt} the prompt,
                                {system} the system text (empty), {{ and }} literal braces; encoded
                                with the base tokenizer's specials (e.g. BOS) as raw text is. NULL:
                                the library's default (the plain shifting template, BACO Appendix A).
                                Copied during the call. */
  /* version 4 */
  breadth_baco_step step;
} breadth_baco_options;
/* Fills the fields of `version` (normally BREADTH_BACO_OPTIONS_VERSION) with the library's defaults
 * (breadth::BacoOptions) and sets options->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_baco_options_init(breadth_baco_options* options, unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_baco_options_init. */
#define BREADTH_BACO_OPTIONS_INIT                                                            \
  {BREADTH_BACO_OPTIONS_VERSION, {BREADTH_SAMPLING_OPTIONS_VERSION, 1.0, 0, 0.9, 0.0},        \
   {BREADTH_SAMPLING_OPTIONS_VERSION, 1.0, 0, 0.9, 0.0}, 10, 256, 0, 0, 0, 0, 0, 3, 1, NULL, NULL, NULL, 0, \
   NULL, BREADTH_BACO_STEP_AUTO}
#endif

/* n samples for each prompt with `rule`. On success *out owns the result. */
BREADTH_API breadth_status breadth_baco_generate(const breadth_baco* baco, const char* const* prompts,
                                                 size_t num_prompts, const breadth_rule* rule,
                                                 const breadth_baco_options* options,
                                                 breadth_baco_result** out);
/* Same with a rule given by name ("p-punc:0.3"). */
BREADTH_API breadth_status breadth_baco_generate_spec(const breadth_baco* baco, const char* const* prompts,
                                                      size_t num_prompts, const char* rule_spec,
                                                      const breadth_baco_options* options,
                                                      breadth_baco_result** out);
/* A γ sweep: the rule `rule_name` (no ":GAMMA") at each of `num_gammas` thresholds on the same
 * prompts and seeds. `out` points to an array of num_gammas handles that the caller provides; on
 * success each holds a result the caller releases with breadth_baco_result_free (on failure all are
 * NULL). */
BREADTH_API breadth_status breadth_baco_sweep(const breadth_baco* baco, const char* const* prompts,
                                              size_t num_prompts, const char* rule_name,
                                              const double* gammas, size_t num_gammas,
                                              const breadth_baco_options* options,
                                              breadth_baco_result** out);
BREADTH_API void breadth_baco_result_free(breadth_baco_result* result);
/* The rule's name; *out is owned by the result. */
BREADTH_API breadth_status breadth_baco_result_rule(const breadth_baco_result* result, const char** out);
/* Number of samples. */
BREADTH_API breadth_status breadth_baco_result_count(const breadth_baco_result* result, size_t* out);

#define BREADTH_BACO_SAMPLE_VERSION 1
typedef struct breadth_baco_sample {
  unsigned int version;
  int64_t prompt_index;
  int64_t sample_index;
  const char* text;         /* borrowed from the result, NUL-terminated */
  size_t text_len;
  size_t num_tokens;        /* records, an accepted EOS included */
  int64_t length;           /* tokens other than the final EOS */
  int64_t base_tokens;
  int64_t switches;
  int64_t retries;          /* min-length regenerations */
  breadth_finish finish;
} breadth_baco_sample;
#define BREADTH_BACO_SAMPLE_INIT {BREADTH_BACO_SAMPLE_VERSION, 0, 0, NULL, 0, 0, 0, 0, 0, 0, BREADTH_FINISH_EOS}

/* Why a token came from the model it came from (C++: breadth::ChoiceReason). */
typedef enum breadth_choice_reason {
  BREADTH_REASON_RULE = 0,        /* the rule decided at a word boundary */
  BREADTH_REASON_FIRST_TOKEN = 1, /* the first token is the aligned model's */
  BREADTH_REASON_IN_WORD = 2,     /* the model that started a word finished it */
  BREADTH_REASON_EOS_HANDOFF = 3  /* a base EOS candidate handed the step to the aligned model */
} breadth_choice_reason;
#ifndef BREADTH_NO_DEPRECATED
typedef breadth_choice_reason breadth_route_reason; /* deprecated name */
#endif

/* Provenance of one emitted token (statistics NaN and ids -1 where not computed). */
#define BREADTH_TOKEN_RECORD_VERSION 1
typedef struct breadth_token_record {
  unsigned int version;
  int32_t id;
  breadth_source source;
  breadth_choice_reason reason;
  int eos;
  const char* text;         /* borrowed from the result, NUL-terminated */
  size_t text_len;
  float p_base_max, p_aligned_max, h_base, h_aligned;
  int32_t base_candidate, aligned_candidate, aligned_top1;
  int32_t eos_redraws;      /* aligned EOS candidates redrawn at this step (EOS only as top-1) */
} breadth_token_record;
#define BREADTH_TOKEN_RECORD_INIT \
  {BREADTH_TOKEN_RECORD_VERSION, -1, BREADTH_SOURCE_ALIGNED, BREADTH_REASON_RULE, 0, NULL, 0, 0, 0, 0, 0, -1, -1, -1, 0}

#define BREADTH_BACO_SUMMARY_VERSION 1
typedef struct breadth_baco_summary {
  unsigned int version;
  int64_t samples;
  int64_t tokens;           /* EOS records excluded */
  int64_t base_tokens;
  double base_share;        /* base_tokens / tokens */
  int64_t switches;
  double mean_length;
  int64_t eos_finished;
  int64_t retries;
} breadth_baco_summary;
#define BREADTH_BACO_SUMMARY_INIT {BREADTH_BACO_SUMMARY_VERSION, 0, 0, 0, 0.0, 0, 0.0, 0, 0}

BREADTH_API breadth_status breadth_baco_result_get(const breadth_baco_result* result, size_t index,
                                                   breadth_baco_sample* out);
BREADTH_API breadth_status breadth_baco_result_token(const breadth_baco_result* result, size_t sample,
                                                     size_t token, breadth_token_record* out);
BREADTH_API breadth_status breadth_baco_result_summary(const breadth_baco_result* result,
                                                       breadth_baco_summary* out);

/* ------------------------------------------------------------------------------------------------
 * Diversity coverage (DivCov)
 * --------------------------------------------------------------------------------------------- */

typedef struct breadth_divcov breadth_divcov; /* the figures of one answer set */

#define BREADTH_DIVCOV_OPTIONS_VERSION 1
typedef struct breadth_divcov_options {
  unsigned int version;
  /* How answers are partitioned: "exact", "rouge1[:T]", "noveltybench-shortcut",
   * "embedding:PATH[:T]", "classifier:PATH[:T]". NULL = "exact". */
  const char* equivalence;
  /* Quality, first match wins: `scores` (one per answer, on a 0..max_score scale); else `gold` (1
   * for an answer in the gold set, else 0; max-uniq-sum = min(B, |gold|)); else every answer
   * scores 1 (div-cov = #unique / B). All borrowed. */
  const double* scores;
  double max_score;
  const char* const* gold;
  size_t num_gold;
  int64_t budget;           /* B; 0 = the number of answers */
  double patience;          /* NoveltyBench's p for utility (0.8) */
} breadth_divcov_options;
/* Fills the fields of `version` (normally BREADTH_DIVCOV_OPTIONS_VERSION) with the library's defaults
 * and sets options->version. Writes nothing beyond that version's fields. */
BREADTH_API breadth_status breadth_divcov_options_init(breadth_divcov_options* options, unsigned int version);
#ifndef BREADTH_NO_DEPRECATED
/* Deprecated: use breadth_divcov_options_init. */
#define BREADTH_DIVCOV_OPTIONS_INIT {BREADTH_DIVCOV_OPTIONS_VERSION, NULL, NULL, 10.0, NULL, 0, 0, 0.8}
#endif

#define BREADTH_DIVCOV_FIGURES_VERSION 1
typedef struct breadth_divcov_figures {
  unsigned int version;
  int64_t num_unique;       /* #Unq: number of classes */
  double qual;              /* mean quality over all answers */
  double unq_qual;          /* mean quality over class representatives */
  double div_cov;           /* Cov */
  double utility;           /* NoveltyBench's utility */
  int64_t distinct;         /* number of classes */
  size_t count;             /* answers */
  const int32_t* partition; /* class id per answer, borrowed from the result */
  const double* quality;    /* quality per answer, borrowed from the result */
} breadth_divcov_figures;
#define BREADTH_DIVCOV_FIGURES_INIT {BREADTH_DIVCOV_FIGURES_VERSION, 0, 0.0, 0.0, 0.0, 0.0, 0, 0, NULL, NULL}

/* Partitions `answers` (UTF-8, borrowed) and computes the figures. On success *out owns them. */
BREADTH_API breadth_status breadth_divcov_evaluate(const char* prompt, const char* const* answers,
                                                   size_t num_answers,
                                                   const breadth_divcov_options* options,
                                                   breadth_divcov** out);
/* The figures from a partition (any class labels; canonicalized to first-appearance order, which the
 * result's partition holds) and per-answer qualities already known; `max_unique_sum` is the div-cov
 * denominator (B * q_max, or min(B, |gold|)). */
BREADTH_API breadth_status breadth_divcov_from_partition(const int32_t* partition, const double* quality,
                                                         size_t count, double max_unique_sum,
                                                         double patience, breadth_divcov** out);
BREADTH_API breadth_status breadth_divcov_get(const breadth_divcov* divcov, breadth_divcov_figures* out);
BREADTH_API void breadth_divcov_free(breadth_divcov* divcov);

/* ------------------------------------------------------------------------------------------------
 * Query routing with a saved router
 * --------------------------------------------------------------------------------------------- */

typedef struct breadth_router breadth_router;   /* immutable after loading; thread-safe */
typedef struct breadth_encoder breadth_encoder; /* a sentence encoder (BERT family); thread-safe */

/* Loads a router saved by `breadth route train` (router.json + weights.safetensors in `dir`; a
 * "bert" router also its fine-tuned encoder in `dir`/encoder, run on the CPU). */
BREADTH_API breadth_status breadth_router_load(const char* dir, breadth_router** out);
BREADTH_API void breadth_router_free(breadth_router* router);
/* Number of candidate models (the pool). */
BREADTH_API breadth_status breadth_router_pool_size(const breadth_router* router, size_t* out);
/* Name of pool model `index`; *out is owned by the router. */
BREADTH_API breadth_status breadth_router_model_name(const breadth_router* router, size_t index,
                                                     const char** out);
/* *out = nonzero when the router reads model-specific features (one vector per pool model). */
BREADTH_API breadth_status breadth_router_model_specific(const breadth_router* router, int* out);
/* Feature dimension the router expects (agnostic: `index` 0; specific: pool model `index`). */
BREADTH_API breadth_status breadth_router_feature_dim(const breadth_router* router, size_t index,
                                                      int64_t* out);

/* Routes one query to the router's top `k` models. `features[i]` is the query's feature vector of
 * length `dims[i]`: one vector for an agnostic router, one per pool model for a specific one. The
 * caller provides `model_indices`, `budgets` and `scores` (each `k` entries; `scores` may be NULL):
 * pool indices best first, the answers each should produce out of `budget` (split evenly, or by
 * `ratios` when num_ratios == k), and the router's scores. */
BREADTH_API breadth_status breadth_router_pick(const breadth_router* router, const float* const* features,
                                               const int64_t* dims, size_t num_features, size_t k,
                                               int64_t budget, const double* ratios, size_t num_ratios,
                                               size_t* model_indices, int64_t* budgets, double* scores);
/* Routes one query text with a router that reads texts (the fine-tuned BERT router, kind "bert");
 * other routers refuse it with BREADTH_ERR_INVALID_ARGUMENT (they need features: breadth_router_pick).
 * Outputs as breadth_router_pick. */
BREADTH_API breadth_status breadth_router_pick_text(const breadth_router* router, const char* query, size_t k,
                                                    int64_t budget, const double* ratios, size_t num_ratios,
                                                    size_t* model_indices, int64_t* budgets, double* scores);

/* ------------------------------------------------------------------------------------------------
 * Router data, training and the Table-3 report (breadth/router_pipeline.hpp, docs/routing.md): the
 * steps of `breadth route build-data`, `route train` and `route report`, one library call each.
 * Strings and arrays are copied during the call; NULL strings and NULL arrays take the library's
 * defaults (and so does every field the *_init functions fill).
 * --------------------------------------------------------------------------------------------- */

/* Where a step's query features come from (one set of fields in each options struct below): a
 * features file (`features_file`) when given, else computed and cached in `feature_cache` (NULL: the
 * default cache) by the sentence encoder `encoder` (agnostic) or by the candidate checkpoints
 * `models` (specific), on `device` (NULL: the CPU). */

#define BREADTH_ROUTING_DATA_OPTIONS_VERSION 1
typedef struct breadth_routing_data_options {
  unsigned int version;
  int64_t limit;                      /* > 0: the first `limit` prompts only */
  breadth_answer_strategy strategy;   /* answer-set prompt (default all) */
  breadth_question_kind question_kind;
  int64_t budget;                     /* B: answers per (query, model) cell, DivCov's budget (50) */
  int64_t batch;                      /* generations per model and round */
  int64_t max_generations;            /* retry budget per cell (0: automatic) */
  int64_t max_new_tokens;             /* tokens per generation */
  uint64_t seed;                      /* sampling seed */
  const char* equivalence;            /* spec: exact | rouge1[:T] | noveltybench-shortcut | ... (NULL: default) */
  const char* quality;                /* spec: const:VALUE | reward:PATH (NULL: default) */
  const char* device;                 /* the models and judges (NULL: CPU) */
  const char* features_out;           /* also write the table's query features there (NULL: no) */
  const char* features;               /* "agnostic" (with `encoder`) or "specific" (the models); NULL: agnostic */
  const char* encoder;
  const char* feature_cache;
  breadth_progress_callback on_progress; /* per computed cell; may be NULL */
  void* user_data;
} breadth_routing_data_options;
BREADTH_API breadth_status breadth_routing_data_options_init(breadth_routing_data_options* options,
                                                             unsigned int version);

/* The build-data step: for each prompt of the prompts JSONL file `prompts` and each candidate
 * checkpoint of `models` (in pool order, named by their base names), the model's answer set sampled
 * until B and scored with DivCov, appended to the routing table `out_table` (JSONL), resumably (cells
 * already there are kept). `computed` (may be NULL) receives the number of cells computed. */
BREADTH_API breadth_status breadth_routing_data_build(const char* prompts, const char* const* models,
                                                      size_t num_models, const char* out_table,
                                                      const breadth_routing_data_options* options,
                                                      int64_t* computed);

#define BREADTH_ROUTER_TRAIN_OPTIONS_VERSION 1
typedef struct breadth_router_train_options {
  unsigned int version;
  const char* kind;                   /* "binary_mlp", "mway_mlp", "knn" or "bert" (NULL: binary_mlp) */
  const char* features;               /* "agnostic" or "specific" (NULL: agnostic); unused by "bert" */
  const char* features_file;
  const char* encoder;                /* agnostic features; kind "bert": the checkpoint to fine-tune */
  const char* const* models;          /* specific features: candidate checkpoints */
  size_t num_models;
  const char* feature_cache;
  const char* device;
  int64_t knn_k;
  uint64_t seed;                      /* training seed */
  uint64_t split_seed;                /* seed of the 70/10/20 split */
  const int64_t* hidden;              /* MLP grid: hidden sizes (NULL: the library's) */
  size_t num_hidden;
  const double* weight_decay;         /* MLP grid: weight decays (NULL: the library's) */
  size_t num_weight_decay;
  const char* labels;                 /* label types, "soft,one_hot" (NULL: the library's) */
  int64_t max_epochs, patience, batch_size; /* MLP grid */
  int64_t bert_max_epochs, bert_patience, bert_batch_size, bert_max_length; /* kind "bert" */
  double bert_learning_rate, bert_weight_decay;
  breadth_progress_callback on_progress; /* may be NULL */
  void* user_data;
} breadth_router_train_options;
BREADTH_API breadth_status breadth_router_train_options_init(breadth_router_train_options* options,
                                                             unsigned int version);

/* Trains a router on the routing table `table` and saves it in `out_dir` (router.json,
 * weights.safetensors; a "bert" router also encoder/), as `breadth route train` does. */
BREADTH_API breadth_status breadth_router_train(const char* table, const char* out_dir,
                                                const breadth_router_train_options* options);

#define BREADTH_ROUTING_REPORT_OPTIONS_VERSION 1
typedef struct breadth_routing_report_options {
  unsigned int version;
  const char* features;               /* "agnostic", "specific" or "agnostic,specific" (NULL: agnostic) */
  const char* features_file;
  const char* encoder;
  const char* const* models;
  size_t num_models;
  const char* feature_cache;
  const char* device;
  int64_t seeds;                      /* training seeds */
  uint64_t first_seed;
  int64_t budget;                     /* answers per query */
  uint64_t split_seed;
  const int64_t* hidden;              /* MLP grid, as breadth_router_train_options */
  size_t num_hidden;
  const double* weight_decay;
  size_t num_weight_decay;
  const char* labels;
  int64_t max_epochs, patience, batch_size;
  const char* bert_encoder;           /* also Table 3's fine-tuned BERT row from this checkpoint (NULL: no) */
  int64_t bert_max_epochs, bert_patience, bert_batch_size, bert_max_length;
  double bert_learning_rate, bert_weight_decay;
  const char* json_out;               /* write the JSON report there (NULL: no) */
  const char* markdown_out;           /* write the Markdown table there (NULL: no) */
  breadth_progress_callback on_progress; /* may be NULL */
  void* user_data;
} breadth_routing_report_options;
BREADTH_API breadth_status breadth_routing_report_options_init(breadth_routing_report_options* options,
                                                               unsigned int version);

/* The router paper's Table 3 over the routing table `table` (`breadth route report`): writes the
 * files the options name and, when `json` is not NULL, *json = the JSON report (as `route report
 * --json` prints it, without the final newline), released with breadth_string_free. */
BREADTH_API breadth_status breadth_routing_report(const char* table, const breadth_routing_report_options* options,
                                                  char** json);

/* A matrix of floats owned by the library; release with breadth_floats_free. Row-major. */
typedef struct breadth_floats {
  float* data;
  size_t rows;
  size_t cols;
} breadth_floats;
BREADTH_API void breadth_floats_free(breadth_floats* floats);

/* Loads a sentence encoder (Hugging Face directory, e.g. all-MiniLM-L6-v2) for agnostic features
 * and embedding equivalence. */
BREADTH_API breadth_status breadth_encoder_load(const char* path, breadth_encoder** out);
BREADTH_API void breadth_encoder_free(breadth_encoder* encoder);
/* Sentence embeddings, one row per text (sentence-transformers' encode()). */
BREADTH_API breadth_status breadth_encoder_embed(const breadth_encoder* encoder, const char* const* texts,
                                                 size_t num_texts, breadth_floats* out);


/* ------------------------------------------------------------------------------------------------
 * BACO's comparison methods (breadth/methods.hpp, docs/methods.md): the temperature sweep, the logit
 * and response ensembles and NUDGING. Samples are prompt-major (prompt p, answer i at p * n + i);
 * answer i of a prompt depends only on the seed, the prompt and i.
 * --------------------------------------------------------------------------------------------- */

#define BREADTH_METHOD_OPTIONS_VERSION 1
typedef struct breadth_method_options {
  unsigned int version;
  breadth_sampling_options sampling; /* default T = 1, top-p = 0.9 (BACO Appendix D) */
  int64_t num_samples;       /* n per prompt (default 10) */
  int64_t max_new_tokens;    /* per answer, EOS included (default 256) */
  uint64_t seed;
  double w;                  /* logit ensemble: the base model's weight, in [0, 1] */
  double ratio;              /* response ensemble: the base model's share of the n answers */
  double threshold;          /* NUDGING: the base top-1 probability under which aligned writes a word */
  const char* base_template; /* two-model methods: the base prompt as a format string ({prompt},
                                {system}); NULL: the prompt and a newline. Copied during the call. */
  breadth_progress_callback on_progress; /* may be NULL */
  void* user_data;
} breadth_method_options;
/* Fills the fields of `version` (normally BREADTH_METHOD_OPTIONS_VERSION) with the library's defaults
 * (breadth::MethodOptions and the methods' own) and sets options->version. */
BREADTH_API breadth_status breadth_method_options_init(breadth_method_options* options, unsigned int version);

typedef struct breadth_method_result breadth_method_result;

/* A view of one answer; pointers are borrowed from the breadth_method_result. */
#define BREADTH_METHOD_SAMPLE_VERSION 1
typedef struct breadth_method_sample {
  unsigned int version;
  int64_t prompt_index;
  int64_t sample_index;
  const char* text;         /* NUL-terminated UTF-8, special tokens skipped */
  size_t text_len;
  const int32_t* tokens;    /* generated ids (EOS included when it ended the answer) */
  size_t num_tokens;
  breadth_finish finish;
  const char* source;       /* "aligned", "base", "mixed" or "model" */
} breadth_method_sample;
#define BREADTH_METHOD_SAMPLE_INIT {BREADTH_METHOD_SAMPLE_VERSION, 0, 0, NULL, 0, NULL, 0, BREADTH_FINISH_EOS, NULL}

/* Logit ensemble: every token drawn from w * P_base + (1 - w) * P_aligned. The models must share a
 * vocabulary (BREADTH_ERR_INVALID_ARGUMENT otherwise). With w = 0 it is aligned sampling token for
 * token. On success *out owns the result. */
BREADTH_API breadth_status breadth_logit_ensemble(const breadth_model* base, const breadth_model* aligned,
                                                  const char* const* prompts, size_t num_prompts,
                                                  const breadth_method_options* options,
                                                  breadth_method_result** out);
/* The same at each of `num_ws` weights (options->w ignored): out[k] owns point k's result. */
BREADTH_API breadth_status breadth_logit_ensemble_sweep(const breadth_model* base, const breadth_model* aligned,
                                                        const char* const* prompts, size_t num_prompts,
                                                        const double* ws, size_t num_ws,
                                                        const breadth_method_options* options,
                                                        breadth_method_result** out);
/* The single-model baseline at each temperature (options->sampling.temperature ignored): out[k]
 * owns the answers at temperatures[k]. The model's chat template renders each prompt. */
BREADTH_API breadth_status breadth_temperature_sweep(const breadth_model* model, const char* const* prompts,
                                                     size_t num_prompts, const double* temperatures,
                                                     size_t num_temperatures,
                                                     const breadth_method_options* options,
                                                     breadth_method_result** out);
/* Response ensemble: the first round(ratio * n) answers of each prompt from the base model, the
 * rest from the aligned model. */
BREADTH_API breadth_status breadth_response_ensemble(const breadth_model* base, const breadth_model* aligned,
                                                     const char* const* prompts, size_t num_prompts,
                                                     const breadth_method_options* options,
                                                     breadth_method_result** out);
/* NUDGING: the base model drafts; where its top-1 probability is under options->threshold the
 * aligned model writes the next word; the first word is the aligned model's. */
BREADTH_API breadth_status breadth_nudging(const breadth_model* base, const breadth_model* aligned,
                                           const char* const* prompts, size_t num_prompts,
                                           const breadth_method_options* options, breadth_method_result** out);
BREADTH_API void breadth_method_result_free(breadth_method_result* result);
BREADTH_API breadth_status breadth_method_result_count(const breadth_method_result* result, size_t* out);
BREADTH_API breadth_status breadth_method_result_get(const breadth_method_result* result, size_t index,
                                                     breadth_method_sample* out);


#ifdef __cplusplus
}
#endif

#endif /* BREADTH_H */
