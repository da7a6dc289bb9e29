/*
 * baco_c: BACO decoding from C. Loads a base and an aligned model, streams the tokens of the first
 * sample as they are decided, then prints every sample with the base model's tokens in [brackets]
 * and the run's summary.
 *
 *   baco_c BASE ALIGNED [PROMPT] [RULE] [N] [MAX_TOKENS]
 *   baco_c smollm2-135m-instruct.gguf smollm2-135m-instruct.gguf "Name a colour." p-punc:0.3 4 32
 *
 * RULE is a spec ("p-punc:0.3", "rand:0.5", ...) or "callback", which routes with a rule written in
 * C below (base while the base model is confident enough, aligned otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breadth.h"

/* Fails with the library's message. */
static int check(breadth_status s, const char* what) {
  if (s != BREADTH_OK) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, breadth_last_error(), breadth_status_name(s));
    return 0;
  }
  return 1;
}

/* A rule in C: emit the base model's word when it is at least 30% sure of its own top token. */
static int confident_base(const breadth_step_view* step, void* user_data) {
  double threshold = *(const double*)user_data;
  return step->p_base_max >= threshold ? BREADTH_BACO_CHOICE_BASE : BREADTH_BACO_CHOICE_ALIGNED;
}

/* Streams sample 0 to stdout as it is decoded. */
static int stream(const breadth_token_event* e, void* user_data) {
  (void)user_data;
  if (e->row == 0) {
    fputs(e->source == BREADTH_SOURCE_BASE ? "[" : "", stdout);
    fwrite(e->text, 1, e->text_len, stdout);
    fputs(e->source == BREADTH_SOURCE_BASE ? "]" : "", stdout);
    fflush(stdout);
  }
  return 1;
}

int main(int argc, char** argv) {
  const char* prompt = argc > 3 ? argv[3] : "Write one sentence about the sea.";
  const char* spec = argc > 4 ? argv[4] : "p-punc:0.3";
  int n = argc > 5 ? atoi(argv[5]) : 4;
  int max_tokens = argc > 6 ? atoi(argv[6]) : 32;
  breadth_model* base = NULL;
  breadth_model* aligned = NULL;
  breadth_baco* baco = NULL;
  breadth_rule* rule = NULL;
  breadth_baco_result* result = NULL;
  double threshold = 0.3;
  int ok = 0;
  size_t count = 0, i, j;
  const char* rule_name = NULL;
  breadth_baco_options options;
  breadth_baco_summary summary = BREADTH_BACO_SUMMARY_INIT; /* a view: its _INIT sets the version */

  if (argc < 3) {
    fprintf(stderr, "usage: %s BASE ALIGNED [PROMPT] [RULE|callback] [N] [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  printf("breadth %s (C ABI %d)\n", breadth_version(), breadth_abi_version());
  if (!check(breadth_model_load(argv[1], NULL, &base), "loading the base model")) goto done;
  if (!check(breadth_model_load(argv[2], NULL, &aligned), "loading the aligned model")) goto done;
  if (!check(breadth_baco_create(base, aligned, &baco), "breadth_baco_create")) goto done;
  if (strcmp(spec, "callback") == 0) {
    if (!check(breadth_rule_from_callback("confident-base", confident_base, BREADTH_NEEDS_BASE, &threshold, &rule),
               "breadth_rule_from_callback"))
      goto done;
  } else if (!check(breadth_rule_parse(spec, &rule), "breadth_rule_parse")) {
    goto done;
  }

  /* The library's defaults (T = 1, top-p = 0.9, ...), then the fields we change. */
  if (!check(breadth_baco_options_init(&options, BREADTH_BACO_OPTIONS_VERSION), "breadth_baco_options_init"))
    goto done;
  options.num_samples = n;
  options.max_new_tokens = max_tokens;
  options.seed = 7;
  options.on_token = stream;
  printf("--- streaming sample 0 ([base tokens] in brackets)\n");
  if (!check(breadth_baco_generate(baco, &prompt, 1, rule, &options, &result), "breadth_baco_generate")) goto done;
  printf("\n");

  if (!check(breadth_baco_result_rule(result, &rule_name), "breadth_baco_result_rule")) goto done;
  if (!check(breadth_baco_result_count(result, &count), "breadth_baco_result_count")) goto done;
  for (i = 0; i < count; ++i) {
    breadth_baco_sample s = BREADTH_BACO_SAMPLE_INIT;
    if (!check(breadth_baco_result_get(result, i, &s), "breadth_baco_result_get")) goto done;
    printf("--- sample %lld: %lld tokens, %lld from base, %lld switches\n", (long long)s.sample_index,
           (long long)s.length, (long long)s.base_tokens, (long long)s.switches);
    for (j = 0; j < s.num_tokens; ++j) {
      breadth_token_record t = BREADTH_TOKEN_RECORD_INIT;
      if (!check(breadth_baco_result_token(result, i, j, &t), "breadth_baco_result_token")) goto done;
      if (t.source == BREADTH_SOURCE_BASE) printf("[%.*s]", (int)t.text_len, t.text);
      else printf("%.*s", (int)t.text_len, t.text);
    }
    printf("\n");
  }
  if (!check(breadth_baco_result_summary(result, &summary), "breadth_baco_result_summary")) goto done;
  printf("--- %s: %lld samples, %lld tokens, base share %.3f, %lld switches\n", rule_name, (long long)summary.samples,
         (long long)summary.tokens, summary.base_share, (long long)summary.switches);
  ok = 1;

done:
  breadth_baco_result_free(result);
  breadth_rule_free(rule);
  breadth_baco_free(baco);
  breadth_model_free(aligned);
  breadth_model_free(base);
  return ok ? 0 : 1;
}
