/* Soak: many short generations through the C API in one process, as a server linking libbreadth would
 * make them, and resident memory must stop growing once warmed up.
 *
 * usage: soak_capi BASE_DIR ALIGNED_DIR [GENERATIONS (10000)] [WARMUP (1000)] [MARGIN_KIB (4096)]
 *
 * Each iteration is one breadth_generate (2 samples, 8 new tokens, a prompt and seed that vary), its
 * result read and freed; every 10th iteration also runs a BACO generation, tokenize/detokenize and a
 * failing call (an unknown rule: the thread-local error message). Resident memory is read from
 * /proc/self/statm after WARMUP iterations and every 1000 after; the run fails when it grows by more
 * than MARGIN_KIB from the warm-up reading to the end.
 *
 * Why 4 MiB: after warm-up every allocation a call makes is freed before the next, so glibc reuses the
 * same chunks and the resident size moves only by arena fragmentation (measured: 40 KiB from call
 * 1,000 to call 10,000, with the same reading from call 5,000 on). A leak of anything a call returns -- a result handle holds at least the two samples'
 * texts, 16 token ids, 32 floats and its own bookkeeping, over 500 bytes -- leaks >= 500 B x 9,000
 * calls = 4.3 MiB, so the margin still catches the smallest per-call leak of a result, while staying
 * well above fragmentation noise. A leak in the every-10th calls must be >= 4.6 KiB per call to show.
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "breadth.h"

static long resident_kib(void) {
  long size = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

#define CHECK_OK(call)                                                                          \
  do {                                                                                          \
    breadth_status st_ = (call);                                                                \
    if (st_ != BREADTH_OK) {                                                                    \
      fprintf(stderr, "FAIL: %s: %s: %s\n", #call, breadth_status_name(st_), breadth_last_error()); \
      exit(1);                                                                                  \
    }                                                                                           \
  } while (0)

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s BASE_DIR ALIGNED_DIR [GENERATIONS] [WARMUP] [MARGIN_KIB]\n", argv[0]);
    return 2;
  }
  const long total = argc > 3 ? atol(argv[3]) : 10000;
  const long warmup = argc > 4 ? atol(argv[4]) : 1000;
  const long margin_kib = argc > 5 ? atol(argv[5]) : 4096;
  static const char* prompts[] = {"Tell me a story about a cat.", "Name a color, please!",
                                  "What is the capital of France?", "Write a haiku about rain.",
                                  "List three fruits."};
  breadth_model *base = NULL, *aligned = NULL;
  breadth_baco* baco = NULL;
  CHECK_OK(breadth_model_load(argv[1], NULL, &base));
  CHECK_OK(breadth_model_load(argv[2], NULL, &aligned));
  CHECK_OK(breadth_baco_create(base, aligned, &baco));

  breadth_generate_options go;
  CHECK_OK(breadth_generate_options_init(&go, BREADTH_GENERATE_OPTIONS_VERSION));
  go.num_samples = 2;
  go.max_new_tokens = 8;
  breadth_baco_options bo;
  CHECK_OK(breadth_baco_options_init(&bo, BREADTH_BACO_OPTIONS_VERSION));
  bo.num_samples = 2;
  bo.max_new_tokens = 8;

  long warm_kib = -1, peak_kib = 0, tokens = 0;
  for (long i = 0; i < total; ++i) {
    const char* p[1];
    p[0] = prompts[i % 5];
    go.seed = (uint64_t)i;
    breadth_generation* g = NULL;
    CHECK_OK(breadth_generate(aligned, p, 1, &go, &g));
    size_t n = 0;
    CHECK_OK(breadth_generation_count(g, &n));
    if (n != 2) {
      fprintf(stderr, "FAIL: generation %ld has %zu samples, expected 2\n", i, n);
      return 1;
    }
    for (size_t k = 0; k < n; ++k) {
      breadth_sample s = BREADTH_SAMPLE_INIT;
      CHECK_OK(breadth_generation_get(g, k, &s));
      if (s.num_tokens == 0 || s.num_tokens > 8 || s.text == NULL || s.text[s.text_len] != 0) {
        fprintf(stderr, "FAIL: generation %ld sample %zu: %zu tokens\n", i, k, s.num_tokens);
        return 1;
      }
      tokens += (long)s.num_tokens;
    }
    breadth_generation_free(g);

    if (i % 10 == 0) {
      breadth_baco_result* r = NULL;
      bo.seed = (uint64_t)i;
      CHECK_OK(breadth_baco_generate_spec(baco, p, 1, "rand:0.5", &bo, &r));
      size_t m = 0;
      CHECK_OK(breadth_baco_result_count(r, &m));
      if (m != 2) {
        fprintf(stderr, "FAIL: BACO generation %ld has %zu samples\n", i, m);
        return 1;
      }
      breadth_baco_result_free(r);

      breadth_tokens t = {NULL, 0};
      CHECK_OK(breadth_tokenize(aligned, p[0], 1, 1, &t));
      char* text = NULL;
      CHECK_OK(breadth_detokenize(aligned, t.ids, t.count, 0, &text));
      breadth_string_free(text);
      breadth_tokens_free(&t);

      breadth_rule* rule = NULL;
      if (breadth_rule_parse("unknownrule", &rule) == BREADTH_OK || rule != NULL ||
          strstr(breadth_last_error(), "unknownrule") == NULL) {
        fprintf(stderr, "FAIL: an unknown rule was not refused with its name in the message\n");
        return 1;
      }
    }

    const long done = i + 1;
    if (done == warmup || (done > warmup && done % 1000 == 0) || done == total) {
      const long kib = resident_kib();
      if (kib < 0) {
        fprintf(stderr, "FAIL: cannot read /proc/self/statm\n");
        return 1;
      }
      if (done == warmup) warm_kib = kib;
      if (kib > peak_kib) peak_kib = kib;
      printf("after %ld generations: resident %ld KiB\n", done, kib);
      fflush(stdout);
    }
  }
  const long end_kib = resident_kib();
  breadth_baco_free(baco);
  breadth_model_free(base);
  breadth_model_free(aligned);
  if (warm_kib < 0) {
    fprintf(stderr, "FAIL: fewer generations (%ld) than the warm-up (%ld)\n", total, warmup);
    return 1;
  }
  printf("%ld generations, %ld tokens; resident %ld KiB after warm-up, %ld KiB at the end (growth %ld KiB, "
         "margin %ld KiB), peak %ld KiB\n",
         total, tokens, warm_kib, end_kib, end_kib - warm_kib, margin_kib, peak_kib);
  if (end_kib - warm_kib > margin_kib || peak_kib - warm_kib > margin_kib) {
    printf("FAIL: resident memory grew by more than %ld KiB after warm-up\n", margin_kib);
    return 1;
  }
  printf("OK\n");
  return 0;
}
