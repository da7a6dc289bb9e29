/*
 * Compiled as strict C99 (-std=c99 -pedantic -Werror -Wall -Wextra): the header, every _INIT macro
 * and the calls that need no model. Running it checks the error contract from C itself.
 */
#include <stdio.h>
#include <string.h>

#include "breadth.h"

static int failures = 0;
#define EXPECT(cond)                                                  \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

int main(void) {
  breadth_model_options mo = BREADTH_MODEL_OPTIONS_INIT;
  breadth_sampling_options so = BREADTH_SAMPLING_OPTIONS_INIT;
  breadth_generate_options go = BREADTH_GENERATE_OPTIONS_INIT;
  breadth_sample sample = BREADTH_SAMPLE_INIT;
  breadth_question q = BREADTH_QUESTION_INIT;
  breadth_answer_set_options ao = BREADTH_ANSWER_SET_OPTIONS_INIT;
  breadth_answer answer = BREADTH_ANSWER_INIT;
  breadth_baco_options bo = BREADTH_BACO_OPTIONS_INIT;
  breadth_baco_sample bs = BREADTH_BACO_SAMPLE_INIT;
  breadth_token_record rec = BREADTH_TOKEN_RECORD_INIT;
  breadth_baco_summary sum = BREADTH_BACO_SUMMARY_INIT;
  breadth_divcov_options dco = BREADTH_DIVCOV_OPTIONS_INIT;
  breadth_divcov_figures fig = BREADTH_DIVCOV_FIGURES_INIT;
  breadth_tokens toks = {NULL, 0};
  breadth_floats fl = {NULL, 0, 0};
  breadth_model* model = NULL;
  breadth_rule* rule = NULL;
  breadth_divcov* dc = NULL;
  const char* name = NULL;
  const char* answers[3];
  int32_t partition[3] = {0, 1, 0};
  double quality[3] = {1.0, 1.0, 1.0};

  /* Defaults the header promises. */
  EXPECT(mo.version == BREADTH_MODEL_OPTIONS_VERSION && mo.device == NULL && mo.dtype == BREADTH_DTYPE_FLOAT32);
  EXPECT(so.temperature == 1.0 && so.top_k == 0 && so.top_p == 1.0 && so.min_p == 0.0);
  EXPECT(go.num_samples == 1 && go.max_new_tokens == 256 && go.stop_at_eos == 1 && go.apply_chat_template == 1);
  EXPECT(go.sampling.version == BREADTH_SAMPLING_OPTIONS_VERSION);
  EXPECT(ao.budget == 50 && ao.strategy == BREADTH_STRATEGY_ALL && ao.generation.version == BREADTH_GENERATE_OPTIONS_VERSION);
  EXPECT(bo.num_samples == 10 && bo.base_sampling.top_p == 0.9 && bo.aligned_sampling.top_p == 0.9 && bo.lazy == 1);
  EXPECT(bo.max_retries == 3 && bo.max_new_tokens == 256);
  EXPECT(dco.patience == 0.8 && dco.equivalence == NULL);
  EXPECT(sample.version && q.version && answer.version && bs.version && rec.version && sum.version && fig.version);

  /* Errors from C: status, message, and success clearing it. */
  EXPECT(breadth_model_load("/nonexistent/breadth-model", &mo, &model) == BREADTH_ERR_IO);
  EXPECT(model == NULL);
  EXPECT(strstr(breadth_last_error(), "/nonexistent/breadth-model") != NULL);
  EXPECT(breadth_rule_parse("p-punc", &rule) == BREADTH_ERR_INVALID_ARGUMENT); /* p needs a threshold */
  EXPECT(rule == NULL && strlen(breadth_last_error()) > 0);
  EXPECT(breadth_rule_parse("h-fc:1.5", &rule) == BREADTH_OK);
  EXPECT(breadth_last_error()[0] == '\0');
  EXPECT(breadth_rule_name(rule, &name) == BREADTH_OK && strcmp(name, "h-fc:1.5") == 0);
  EXPECT(breadth_tokenize(NULL, "x", 0, 0, &toks) == BREADTH_ERR_INVALID_ARGUMENT);

  answers[0] = "Red";
  answers[1] = "blue";
  answers[2] = "red.";
  EXPECT(breadth_divcov_evaluate("Name a colour.", answers, 3, &dco, &dc) == BREADTH_OK);
  EXPECT(breadth_divcov_get(dc, &fig) == BREADTH_OK);
  EXPECT(fig.num_unique == 2 && fig.count == 3 && fig.partition[2] == 0);
  EXPECT(fig.div_cov > 0.666 && fig.div_cov < 0.667); /* 2 unique of B = 3, quality 1 each */
  breadth_divcov_free(dc);
  dc = NULL;
  EXPECT(breadth_divcov_from_partition(partition, quality, 3, 0.0, 0.8, &dc) == BREADTH_ERR_INVALID_ARGUMENT);

  breadth_rule_free(rule);
  breadth_rule_free(NULL);
  breadth_tokens_free(&toks);
  breadth_floats_free(&fl);
  breadth_model_free(NULL);
  if (failures == 0) printf("C99 API checks passed (breadth %s)\n", breadth_version());
  return failures == 0 ? 0 : 1;
}
