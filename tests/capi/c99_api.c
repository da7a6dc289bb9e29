/*
 * Compiled as strict C99 (-std=c99 -pedantic -Werror -Wall -Wextra): the header, every _INIT macro
 * and the calls that need no model. Running it checks the error contract from C itself, that the
 * deprecated option _INIT macros equal the library's defaults (the *_init functions), and that the
 * deprecated BACO names equal the new ones.
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

static int same_sampling(const breadth_sampling_options* a, const breadth_sampling_options* b) {
  return a->version == b->version && a->temperature == b->temperature && a->top_k == b->top_k &&
         a->top_p == b->top_p && a->min_p == b->min_p;
}

static int same_generate(const breadth_generate_options* a, const breadth_generate_options* b) {
  return a->version == b->version && same_sampling(&a->sampling, &b->sampling) &&
         a->num_samples == b->num_samples && a->max_new_tokens == b->max_new_tokens && a->seed == b->seed &&
         a->first_sample_index == b->first_sample_index && a->stop_strings == b->stop_strings &&
         a->num_stop_strings == b->num_stop_strings && a->stop_at_eos == b->stop_at_eos &&
         a->apply_chat_template == b->apply_chat_template && a->on_token == b->on_token &&
         a->on_progress == b->on_progress && a->user_data == b->user_data && a->cuda_graph == b->cuda_graph;
}

static int same_baco(const breadth_baco_options* a, const breadth_baco_options* b) {
  return a->version == b->version && same_sampling(&a->base_sampling, &b->base_sampling) &&
         same_sampling(&a->aligned_sampling, &b->aligned_sampling) && a->num_samples == b->num_samples &&
         a->max_new_tokens == b->max_new_tokens && a->seed == b->seed && a->has_base_seed == b->has_base_seed &&
         a->base_seed == b->base_seed && a->first_sample_index == b->first_sample_index &&
         a->min_new_tokens == b->min_new_tokens && a->max_retries == b->max_retries && a->lazy == b->lazy &&
         a->on_token == b->on_token && a->on_progress == b->on_progress && a->user_data == b->user_data &&
         a->ignore_eos == b->ignore_eos && a->base_template == b->base_template && a->step == b->step;
}

/* The deprecated option _INIT macros against the library's defaults. */
static void macros_equal_library_defaults(void) {
  breadth_model_options mo = BREADTH_MODEL_OPTIONS_INIT, mo_lib;
  breadth_sampling_options so = BREADTH_SAMPLING_OPTIONS_INIT, so_lib;
  breadth_generate_options go = BREADTH_GENERATE_OPTIONS_INIT, go_lib;
  breadth_question q = BREADTH_QUESTION_INIT, q_lib;
  breadth_answer_set_options ao = BREADTH_ANSWER_SET_OPTIONS_INIT, ao_lib;
  breadth_baco_options bo = BREADTH_BACO_OPTIONS_INIT, bo_lib;
  breadth_divcov_options dco = BREADTH_DIVCOV_OPTIONS_INIT, dco_lib;

  EXPECT(breadth_model_options_init(&mo_lib, BREADTH_MODEL_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(mo.version == mo_lib.version && mo.device == mo_lib.device && mo.dtype == mo_lib.dtype &&
         mo.weights == mo_lib.weights && mo_lib.weights == BREADTH_WEIGHTS_NATIVE);
  EXPECT(breadth_sampling_options_init(&so_lib, BREADTH_SAMPLING_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(same_sampling(&so, &so_lib));
  EXPECT(breadth_generate_options_init(&go_lib, BREADTH_GENERATE_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(same_generate(&go, &go_lib));
  EXPECT(breadth_question_init(&q_lib, BREADTH_QUESTION_VERSION) == BREADTH_OK);
  EXPECT(q.version == q_lib.version && q.text == q_lib.text && q.kind == q_lib.kind && q.item == q_lib.item &&
         q.items == q_lib.items && q.text_one == q_lib.text_one && q.text_two == q_lib.text_two);
  EXPECT(breadth_answer_set_options_init(&ao_lib, BREADTH_ANSWER_SET_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(ao.version == ao_lib.version && ao.strategy == ao_lib.strategy && ao.budget == ao_lib.budget &&
         ao.ratios == ao_lib.ratios && ao.num_ratios == ao_lib.num_ratios && ao.batch == ao_lib.batch &&
         ao.max_generations == ao_lib.max_generations && ao.generation == ao_lib.generation);
  EXPECT(breadth_baco_options_init(&bo_lib, BREADTH_BACO_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(same_baco(&bo, &bo_lib));
  EXPECT(breadth_divcov_options_init(&dco_lib, BREADTH_DIVCOV_OPTIONS_VERSION) == BREADTH_OK);
  EXPECT(dco.version == dco_lib.version && dco.equivalence == dco_lib.equivalence && dco.scores == dco_lib.scores &&
         dco.max_score == dco_lib.max_score && dco.gold == dco_lib.gold && dco.num_gold == dco_lib.num_gold &&
         dco.budget == dco_lib.budget && dco.patience == dco_lib.patience);
}

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
  EXPECT(ao.budget == 50 && ao.strategy == BREADTH_STRATEGY_ALL && ao.generation == NULL);
  EXPECT(bo.num_samples == 10 && bo.base_sampling.top_p == 0.9 && bo.aligned_sampling.top_p == 0.9 && bo.lazy == 1);
  EXPECT(bo.max_retries == 3 && bo.max_new_tokens == 256);
  EXPECT(dco.patience == 0.8 && dco.equivalence == NULL);
  EXPECT(sample.version && q.version && answer.version && bs.version && rec.version && sum.version && fig.version);
  macros_equal_library_defaults();

  /* BACO's names: the deprecated ones are aliases with the same values. */
  EXPECT(BREADTH_BACO_CHOICE_ALIGNED == 0 && BREADTH_BACO_CHOICE_BASE == 1);
  EXPECT(BREADTH_ROUTE_ALIGNED == BREADTH_BACO_CHOICE_ALIGNED && BREADTH_ROUTE_BASE == BREADTH_BACO_CHOICE_BASE);
  EXPECT(sizeof(breadth_route) == sizeof(breadth_baco_choice) &&
         sizeof(breadth_route_reason) == sizeof(breadth_choice_reason));
  rec.reason = BREADTH_REASON_EOS_HANDOFF;
  EXPECT(rec.reason == 3);

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
