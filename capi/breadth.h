/*
 * breadth.h: the stable C API of breadth.
 *
 * Conventions, stated once (as in libgit2):
 *
 *  - Every function returns a breadth_status. BREADTH_OK (0) is success; on failure the calling
 *    thread's last-error message (breadth_last_error()) says what went wrong and how to fix it. The
 *    message stays valid until the next breadth call on the same thread.
 *  - Objects are opaque handles created by breadth_*_create/load and released by the matching
 *    breadth_*_free. Every free function accepts NULL. A handle may be used from several threads only
 *    where its section says so.
 *  - Ownership: a `const char*` or array returned inside a result struct belongs to that struct and is
 *    released by the struct's free function. Pointers passed in are borrowed for the duration of the
 *    call only, unless a comment says otherwise.
 *  - Option structs are versioned: declare them with their _INIT macro (which sets `version` and the
 *    defaults) and then change the fields you need. New fields are only ever appended, so a program
 *    built against an older header keeps working with a newer library.
 *  - Callbacks receive the `user_data` pointer given with them and return nonzero to continue, zero
 *    to stop the run early (the run then returns BREADTH_ERR_CANCELLED with what was done so far
 *    released).
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

#define BREADTH_MODEL_OPTIONS_VERSION 1
typedef struct breadth_model_options {
  unsigned int version;
  const char* device; /* "cpu", "cuda", "cuda:1"; NULL means "cpu" */
  breadth_dtype dtype;
} breadth_model_options;
#define BREADTH_MODEL_OPTIONS_INIT {BREADTH_MODEL_OPTIONS_VERSION, NULL, BREADTH_DTYPE_FLOAT32}

/* Loads a Hugging Face checkpoint directory or a GGUF file. On success *out owns the model; release
 * it with breadth_model_free. `options` may be NULL for the defaults. */
BREADTH_API breadth_status breadth_model_load(const char* path, const breadth_model_options* options,
                                              breadth_model** out);
BREADTH_API void breadth_model_free(breadth_model* model);
/* Vocabulary size of the model's output layer. */
BREADTH_API breadth_status breadth_model_vocab_size(const breadth_model* model, int32_t* out);

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

#ifdef __cplusplus
}
#endif

#endif /* BREADTH_H */
