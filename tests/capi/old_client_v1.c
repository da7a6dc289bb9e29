/*
 * The ABI promise from the side of a program built against an older breadth.h: its structs are the
 * version 1 layouts of breadth_v1.h, each followed in memory by guard bytes. Checks that
 *  - *_init and *_get write only the fields of the caller's version (the guard bytes stay as they
 *    were) and give the same values as for a current struct;
 *  - options of version 1 are read correctly, with the library's defaults for the fields version 1
 *    lacks (the guard bytes after them are 0xFF, so reading past the struct would show);
 *  - breadth_answer_set_options version 1 (generation embedded by value) still works, and gives the
 *    answers version 2 (generation by pointer) gives;
 *  - versions the library does not know (0, newer) are refused with the struct named, and the
 *    struct is left untouched.
 *
 *   test_capi_old_layout FIXTURE_DIR   (the `bindings` fixture: FIXTURE_DIR/base, FIXTURE_DIR/aligned)
 *
 * Strict C99 (-pedantic -Werror), with BREADTH_NO_DEPRECATED: none of the deprecated names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breadth.h"
#include "breadth_v1.h"

static int failures = 0;
#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)
#define EXPECT_OK(call)                                                                       \
  do {                                                                                        \
    breadth_status s_ = (call);                                                               \
    if (s_ != BREADTH_OK) {                                                                   \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, breadth_last_error()); \
      ++failures;                                                                             \
    }                                                                                         \
  } while (0)

#define GUARD 64
static int all_bytes(const unsigned char* p, size_t n, unsigned char value) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (p[i] != value) return 0;
  return 1;
}

static int same_sampling(const breadth_sampling_options* a, const breadth_sampling_options* b) {
  return a->version == b->version && a->temperature == b->temperature && a->top_k == b->top_k &&
         a->top_p == b->top_p && a->min_p == b->min_p;
}

static int same_generate(const v1_breadth_generate_options* a, const breadth_generate_options* b) {
  return same_sampling(&a->sampling, &b->sampling) && a->num_samples == b->num_samples &&
         a->max_new_tokens == b->max_new_tokens && a->seed == b->seed &&
         a->first_sample_index == b->first_sample_index && a->stop_strings == b->stop_strings &&
         a->num_stop_strings == b->num_stop_strings && a->stop_at_eos == b->stop_at_eos &&
         a->apply_chat_template == b->apply_chat_template && a->on_token == b->on_token &&
         a->on_progress == b->on_progress && a->user_data == b->user_data;
}

static int same_baco(const v1_breadth_baco_options* a, const breadth_baco_options* b) {
  return same_sampling(&a->base_sampling, &b->base_sampling) &&
         same_sampling(&a->aligned_sampling, &b->aligned_sampling) && a->num_samples == b->num_samples &&
         a->max_new_tokens == b->max_new_tokens && a->seed == b->seed && a->has_base_seed == b->has_base_seed &&
         a->base_seed == b->base_seed && a->first_sample_index == b->first_sample_index &&
         a->min_new_tokens == b->min_new_tokens && a->max_retries == b->max_retries && a->lazy == b->lazy &&
         a->on_token == b->on_token && a->on_progress == b->on_progress && a->user_data == b->user_data;
}

/* *_init for version 1 structs: the current defaults, nothing written past the old struct. */
static void init_writes_only_version_1(void) {
  struct {
    v1_breadth_baco_options o;
    unsigned char guard[GUARD];
  } b;
  struct {
    v1_breadth_answer_set_options o;
    unsigned char guard[GUARD];
  } a;
  breadth_baco_options cur_b;
  breadth_answer_set_options cur_a;
  breadth_generate_options cur_g;

  EXPECT_OK(breadth_baco_options_init(&cur_b, BREADTH_BACO_OPTIONS_VERSION));
  EXPECT_OK(breadth_answer_set_options_init(&cur_a, BREADTH_ANSWER_SET_OPTIONS_VERSION));
  EXPECT_OK(breadth_generate_options_init(&cur_g, BREADTH_GENERATE_OPTIONS_VERSION));
  EXPECT(cur_b.version == BREADTH_BACO_OPTIONS_VERSION && cur_b.ignore_eos == 0 && cur_b.base_template == NULL);
  EXPECT(cur_a.version == BREADTH_ANSWER_SET_OPTIONS_VERSION && cur_a.generation == NULL);

  memset(&b, 0xA5, sizeof b);
  EXPECT_OK(breadth_baco_options_init((breadth_baco_options*)&b.o, 1));
  EXPECT(all_bytes(b.guard, GUARD, 0xA5));
  EXPECT(b.o.version == 1);
  EXPECT(same_baco(&b.o, &cur_b));

  memset(&a, 0xA5, sizeof a);
  EXPECT_OK(breadth_answer_set_options_init((breadth_answer_set_options*)&a.o, 1));
  EXPECT(all_bytes(a.guard, GUARD, 0xA5));
  EXPECT(a.o.version == 1 && a.o.generation.version == 1);
  EXPECT(a.o.strategy == cur_a.strategy && a.o.budget == cur_a.budget && a.o.ratios == NULL &&
         a.o.num_ratios == 0 && a.o.batch == cur_a.batch && a.o.max_generations == cur_a.max_generations);
  /* The embedded generation options are the answer-set defaults: plain generation's, except for
   * max_new_tokens (room for a whole answer list). */
  a.o.generation.max_new_tokens = cur_g.max_new_tokens;
  EXPECT(same_generate(&a.o.generation, &cur_g));
}

/* Versions the library does not know: refused, the struct named, nothing written. */
static void unknown_versions_are_refused(void) {
  struct {
    v1_breadth_baco_options o;
    unsigned char guard[GUARD];
  } b;
  char expect[128];
  const char* msg;

  memset(&b, 0x5A, sizeof b);
  EXPECT(breadth_baco_options_init((breadth_baco_options*)&b.o, BREADTH_BACO_OPTIONS_VERSION + 1) ==
         BREADTH_ERR_INVALID_ARGUMENT);
  EXPECT(all_bytes((const unsigned char*)&b, sizeof b, 0x5A));
  msg = breadth_last_error();
  sprintf(expect, "breadth_baco_options has version %d", BREADTH_BACO_OPTIONS_VERSION + 1);
  EXPECT(strstr(msg, expect) != NULL);
  sprintf(expect, "reads versions 1 to %d", BREADTH_BACO_OPTIONS_VERSION);
  EXPECT(strstr(msg, expect) != NULL);
  EXPECT(strstr(msg, "breadth_baco_options_init") != NULL);

  EXPECT(breadth_divcov_options_init(NULL, BREADTH_DIVCOV_OPTIONS_VERSION) == BREADTH_ERR_INVALID_ARGUMENT);
  EXPECT(breadth_question_init((breadth_question*)&b.o, 0) == BREADTH_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(breadth_last_error(), "breadth_question has version 0") != NULL);
  EXPECT(all_bytes((const unsigned char*)&b, sizeof b, 0x5A));
  EXPECT(breadth_sampling_options_init((breadth_sampling_options*)&b.o, 2) == BREADTH_ERR_INVALID_ARGUMENT);
  EXPECT(all_bytes((const unsigned char*)&b, sizeof b, 0x5A));
}

/* A version 1 view of a generated sample: the version 1 fields, nothing past them. */
static void get_writes_only_version_1(const breadth_model* model) {
  const char* prompt = "Tell me a story about a cat.";
  breadth_generate_options g;
  breadth_generation* gen = NULL;
  breadth_sample cur = BREADTH_SAMPLE_INIT;
  struct {
    v1_breadth_sample s;
    unsigned char guard[GUARD];
  } v;
  size_t n = 0;

  EXPECT_OK(breadth_generate_options_init(&g, BREADTH_GENERATE_OPTIONS_VERSION));
  g.num_samples = 2;
  g.max_new_tokens = 8;
  g.seed = 3;
  EXPECT_OK(breadth_generate(model, &prompt, 1, &g, &gen));
  EXPECT_OK(breadth_generation_count(gen, &n));
  EXPECT(n == 2);
  EXPECT_OK(breadth_generation_get(gen, 1, &cur));
  EXPECT(cur.sampling_logprobs != NULL);

  memset(&v, 0xA5, sizeof v);
  v.s.version = 1;
  EXPECT_OK(breadth_generation_get(gen, 1, (breadth_sample*)&v.s));
  EXPECT(all_bytes(v.guard, GUARD, 0xA5));
  EXPECT(v.s.version == 1);
  EXPECT(v.s.prompt_index == cur.prompt_index && v.s.sample_index == cur.sample_index);
  EXPECT(v.s.text == cur.text && v.s.text_len == cur.text_len && v.s.tokens == cur.tokens);
  EXPECT(v.s.num_tokens == cur.num_tokens && v.s.logprobs == cur.logprobs && v.s.finish == cur.finish);

  /* A view newer than the library: refused, untouched. */
  memset(&v, 0x5A, sizeof v);
  v.s.version = BREADTH_SAMPLE_VERSION + 1;
  EXPECT(breadth_generation_get(gen, 1, (breadth_sample*)&v.s) == BREADTH_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(breadth_last_error(), "breadth_sample has version") != NULL);
  EXPECT(all_bytes((const unsigned char*)&v + sizeof v.s.version, sizeof v - sizeof v.s.version, 0x5A));
  breadth_generation_free(gen);
}

/* Reads the samples of `r` (texts and finish reasons) into `out` (n entries). */
static int texts_of(const breadth_baco_result* r, breadth_baco_sample* out, size_t n) {
  size_t count = 0, i;
  if (breadth_baco_result_count(r, &count) != BREADTH_OK || count != n) return 0;
  for (i = 0; i < n; ++i) {
    breadth_baco_sample s = BREADTH_BACO_SAMPLE_INIT;
    if (breadth_baco_result_get(r, i, &s) != BREADTH_OK) return 0;
    out[i] = s;
  }
  return 1;
}

/* BACO options of version 1 (no ignore_eos), with 0xFF after them: read as the current options with
 * ignore_eos at the library's default (off). Version 2 (no base_template) likewise. */
static void baco_reads_only_version_1(const breadth_model* base, const breadth_model* aligned) {
  const char* prompt = "Tell me a story about a cat.";
  struct {
    v1_breadth_baco_options o;
    unsigned char poison[GUARD];
  } old;
  breadth_baco_options cur;
  breadth_baco* baco = NULL;
  breadth_baco_options v2, v3;
  breadth_baco_result *r_old = NULL, *r_cur = NULL, *r_noeos = NULL, *r_v2 = NULL, *r_v3 = NULL;
  enum { N = 6, MAX_TOKENS = 48 };
  breadth_baco_sample a[N], b[N], c[N], d[N];
  size_t i;
  int eos = 0;

  EXPECT_OK(breadth_baco_create(base, aligned, &baco));
  memset(&old, 0xFF, sizeof old);
  EXPECT_OK(breadth_baco_options_init((breadth_baco_options*)&old.o, 1));
  EXPECT(all_bytes(old.poison, GUARD, 0xFF));
  old.o.num_samples = N;
  old.o.max_new_tokens = MAX_TOKENS;
  old.o.seed = 5; /* two of the six samples end with EOS */
  EXPECT_OK(breadth_baco_generate_spec(baco, &prompt, 1, "p-punc:0.5", (const breadth_baco_options*)&old.o, &r_old));

  EXPECT_OK(breadth_baco_options_init(&cur, BREADTH_BACO_OPTIONS_VERSION));
  cur.num_samples = N;
  cur.max_new_tokens = MAX_TOKENS;
  cur.seed = 5;
  EXPECT_OK(breadth_baco_generate_spec(baco, &prompt, 1, "p-punc:0.5", &cur, &r_cur));
  cur.ignore_eos = 1; /* the version 2 field is read when the caller has it */
  EXPECT_OK(breadth_baco_generate_spec(baco, &prompt, 1, "p-punc:0.5", &cur, &r_noeos));

  /* Version 2 (no base_template), with 0xFF where base_template would be: init leaves it, generate
   * does not read it (a garbage pointer would crash or fail), the default base prompt is used. */
  memset(&v2, 0xFF, sizeof v2);
  EXPECT_OK(breadth_baco_options_init(&v2, 2));
  EXPECT(all_bytes((const unsigned char*)&v2.base_template, sizeof v2.base_template, 0xFF));
  v2.num_samples = N;
  v2.max_new_tokens = MAX_TOKENS;
  v2.seed = 5;
  EXPECT_OK(breadth_baco_generate_spec(baco, &prompt, 1, "p-punc:0.5", &v2, &r_v2));

  /* Version 3 (no step), with 0xFF where step would be (an invalid value if it were read). */
  memset(&v3, 0xFF, sizeof v3);
  EXPECT_OK(breadth_baco_options_init(&v3, 3));
  EXPECT(all_bytes((const unsigned char*)&v3.step, sizeof v3.step, 0xFF));
  v3.num_samples = N;
  v3.max_new_tokens = MAX_TOKENS;
  v3.seed = 5;
  EXPECT_OK(breadth_baco_generate_spec(baco, &prompt, 1, "p-punc:0.5", &v3, &r_v3));
  breadth_baco_result_free(r_v3);

  if (r_old && r_cur && r_noeos && r_v2) {
    EXPECT(texts_of(r_old, a, N) && texts_of(r_cur, b, N) && texts_of(r_noeos, c, N) && texts_of(r_v2, d, N));
    for (i = 0; i < N; ++i) EXPECT(d[i].text_len == b[i].text_len && strcmp(d[i].text, b[i].text) == 0);
    for (i = 0; i < N; ++i) {
      EXPECT(a[i].text_len == b[i].text_len && strcmp(a[i].text, b[i].text) == 0);
      EXPECT(a[i].finish == b[i].finish && a[i].num_tokens == b[i].num_tokens);
      EXPECT(c[i].finish == BREADTH_FINISH_LENGTH && c[i].length == MAX_TOKENS);
      eos += b[i].finish == BREADTH_FINISH_EOS;
    }
    /* Else ignore_eos would change nothing, and garbage read for it would go unseen. */
    EXPECT(eos > 0);
  }
  breadth_baco_result_free(r_v2);
  breadth_baco_result_free(r_noeos);
  breadth_baco_result_free(r_cur);
  breadth_baco_result_free(r_old);
  breadth_baco_free(baco);
}

/* Answer sets with version 1 options (generation by value) and version 2 (by pointer): same answers. */
static void answer_set_options_version_1(const breadth_model* base, const breadth_model* aligned) {
  const breadth_model* models[2];
  breadth_question q;
  v1_breadth_answer_set_options old;
  breadth_answer_set_options cur;
  breadth_generate_options g;
  breadth_answer_set *s_old = NULL, *s_cur = NULL;
  size_t n_old = 0, n_cur = 0, i;

  models[0] = aligned;
  models[1] = base;
  EXPECT_OK(breadth_question_init(&q, BREADTH_QUESTION_VERSION));
  q.text = "Name a day of the week.";
  q.kind = BREADTH_QUESTION_FIXED;
  q.item = "day";
  q.items = "days";

  EXPECT_OK(breadth_answer_set_options_init((breadth_answer_set_options*)&old, 1));
  old.strategy = BREADTH_STRATEGY_ONE;
  old.budget = 4;
  old.batch = 2;
  old.max_generations = 3;
  old.generation.max_new_tokens = 6;
  old.generation.seed = 5;
  EXPECT_OK(breadth_collect_answers(models, 2, &q, (const breadth_answer_set_options*)&old, &s_old));

  EXPECT_OK(breadth_answer_set_options_init(&cur, BREADTH_ANSWER_SET_OPTIONS_VERSION));
  EXPECT_OK(breadth_generate_options_init(&g, BREADTH_GENERATE_OPTIONS_VERSION));
  cur.strategy = BREADTH_STRATEGY_ONE;
  cur.budget = 4;
  cur.batch = 2;
  cur.max_generations = 3;
  g.max_new_tokens = 6;
  g.seed = 5;
  cur.generation = &g;
  EXPECT_OK(breadth_collect_answers(models, 2, &q, &cur, &s_cur));

  if (s_old && s_cur) {
    EXPECT_OK(breadth_answer_set_count(s_old, &n_old));
    EXPECT_OK(breadth_answer_set_count(s_cur, &n_cur));
    EXPECT(n_old == n_cur);
    for (i = 0; i < n_old && i < n_cur; ++i) {
      breadth_answer x = BREADTH_ANSWER_INIT, y = BREADTH_ANSWER_INIT;
      EXPECT_OK(breadth_answer_set_get(s_old, i, &x));
      EXPECT_OK(breadth_answer_set_get(s_cur, i, &y));
      EXPECT(strcmp(x.text, y.text) == 0 && x.model == y.model && x.generation == y.generation);
    }
  }
  breadth_answer_set_free(s_cur);
  breadth_answer_set_free(s_old);
}

int main(int argc, char** argv) {
  char path[4096];
  breadth_model *base = NULL, *aligned = NULL;
  if (argc < 2) {
    fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
    return 2;
  }
  init_writes_only_version_1();
  unknown_versions_are_refused();

  snprintf(path, sizeof path, "%s/base", argv[1]);
  EXPECT_OK(breadth_model_load(path, NULL, &base));
  snprintf(path, sizeof path, "%s/aligned", argv[1]);
  EXPECT_OK(breadth_model_load(path, NULL, &aligned));
  if (base && aligned) {
    get_writes_only_version_1(aligned);
    baco_reads_only_version_1(base, aligned);
    answer_set_options_version_1(base, aligned);
  }
  breadth_model_free(aligned);
  breadth_model_free(base);
  if (failures == 0) printf("version 1 client checks passed (breadth %s)\n", breadth_version());
  return failures == 0 ? 0 : 1;
}
