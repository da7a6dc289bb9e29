/* The router's steps through the C API (build-data, train, report), for tests/capi/route_faces.py,
 * which runs the same steps through the CLI and compares what both write.
 *
 * usage: test_capi_route_steps FIXTURE_DIR OUT_DIR
 * FIXTURE_DIR is tests/routing_pipeline's router_pool (prompts.jsonl, pool/{alpha,beta,gamma},
 * encoder). Writes OUT_DIR/{table.jsonl, spec.safetensors, r-spec, r-knn, r-bert, report.json,
 * report.md, report-returned.json}. Exit status 0 when every call succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breadth.h"

/* Every path stays valid to the end of main: one slot each (ASan found the 17th call writing past
 * a 16-slot table). */
#define MAX_PATHS 32
static char buf[MAX_PATHS][1024];
static int nbuf = 0;

static const char* path(const char* dir, const char* name) {
  char* p;
  if (nbuf == MAX_PATHS) {
    fprintf(stderr, "route_steps: more than %d paths; raise MAX_PATHS\n", MAX_PATHS);
    exit(2);
  }
  p = buf[nbuf++];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static void check(breadth_status s, const char* what) {
  if (s != BREADTH_OK) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)s, breadth_last_error());
    exit(1);
  }
}

static int64_t cells = 0;
static int count_cells(int64_t done, int64_t total, const char* label, void* user_data) {
  (void)total;
  (void)label;
  *(int64_t*)user_data = done;
  return 1;
}

int main(int argc, char** argv) {
  const char *fix, *out, *models[3], *encoder, *table, *spec;
  breadth_routing_data_options data;
  breadth_router_train_options train;
  breadth_routing_report_options report;
  int64_t computed = -1;
  int64_t hidden[1] = {16};
  double weight_decay[1] = {0.0};
  char* json = NULL;
  FILE* f;
  if (argc != 3) {
    fprintf(stderr, "usage: %s FIXTURE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  fix = argv[1];
  out = argv[2];
  models[0] = path(fix, "pool/alpha");
  models[1] = path(fix, "pool/beta");
  models[2] = path(fix, "pool/gamma");
  encoder = path(fix, "encoder");
  table = path(out, "table.jsonl");
  spec = path(out, "spec.safetensors");

  /* build-data: as route_faces.py's `route build-data` flags. */
  check(breadth_routing_data_options_init(&data, BREADTH_ROUTING_DATA_OPTIONS_VERSION), "data init");
  data.limit = 20;
  data.budget = 3;
  data.strategy = BREADTH_STRATEGY_ONE;
  data.question_kind = BREADTH_QUESTION_FIXED;
  data.equivalence = "exact";
  data.max_new_tokens = 8;
  data.batch = 3;
  data.max_generations = 6;
  data.seed = 7;
  data.features_out = spec;
  data.features = "specific";
  data.feature_cache = path(out, "cache");
  data.on_progress = count_cells;
  data.user_data = &cells;
  check(breadth_routing_data_build(path(fix, "prompts.jsonl"), models, 3, table, &data, &computed), "build-data");
  if (computed != 60 || cells != 60) {
    fprintf(stderr, "build-data computed %lld cells (progress saw %lld), expected 60\n", (long long)computed,
            (long long)cells);
    return 1;
  }

  /* train: a binary MLP on specific features computed from the models, KNN on the encoder's, bert. */
  check(breadth_router_train_options_init(&train, BREADTH_ROUTER_TRAIN_OPTIONS_VERSION), "train init");
  train.features = "specific";
  train.models = models;
  train.num_models = 3;
  train.feature_cache = path(out, "cache");
  train.hidden = hidden;
  train.num_hidden = 1;
  train.weight_decay = weight_decay;
  train.num_weight_decay = 1;
  train.max_epochs = 20;
  train.patience = 5;
  train.seed = 3;
  check(breadth_router_train(table, path(out, "r-spec"), &train), "train binary_mlp");

  check(breadth_router_train_options_init(&train, BREADTH_ROUTER_TRAIN_OPTIONS_VERSION), "train init");
  train.kind = "knn";
  train.encoder = encoder;
  train.feature_cache = path(out, "cache");
  train.knn_k = 1;
  check(breadth_router_train(table, path(out, "r-knn"), &train), "train knn");

  check(breadth_router_train_options_init(&train, BREADTH_ROUTER_TRAIN_OPTIONS_VERSION), "train init");
  train.kind = "bert";
  train.encoder = encoder;
  train.bert_max_epochs = 2;
  train.labels = "soft";
  train.seed = 3;
  check(breadth_router_train(table, path(out, "r-bert"), &train), "train bert");

  /* report: Table 3 on the specific features file, one seed, a small grid. */
  check(breadth_routing_report_options_init(&report, BREADTH_ROUTING_REPORT_OPTIONS_VERSION), "report init");
  report.features = "specific";
  report.features_file = spec;
  report.seeds = 1;
  report.budget = 3;
  report.hidden = hidden;
  report.num_hidden = 1;
  report.weight_decay = weight_decay;
  report.num_weight_decay = 1;
  report.labels = "soft";
  report.max_epochs = 5;
  report.json_out = path(out, "report.json");
  report.markdown_out = path(out, "report.md");
  check(breadth_routing_report(table, &report, &json), "report");
  f = fopen(path(out, "report-returned.json"), "w");
  if (!f || fputs(json, f) < 0 || fclose(f) != 0) return 1;
  breadth_string_free(json);

  /* Errors: a missing table is an IO error with a message, and a version-0 struct is refused. */
  if (breadth_router_train(path(out, "missing.jsonl"), path(out, "r-none"), NULL) == BREADTH_OK ||
      strlen(breadth_last_error()) == 0) {
    fprintf(stderr, "training on a missing table succeeded\n");
    return 1;
  }
  memset(&train, 0, sizeof train);
  if (breadth_router_train(table, path(out, "r-none"), &train) != BREADTH_ERR_INVALID_ARGUMENT ||
      !strstr(breadth_last_error(), "breadth_router_train_options_init")) {
    fprintf(stderr, "an uninitialised options struct was not refused: %s\n", breadth_last_error());
    return 1;
  }
  printf("ok\n");
  return 0;
}
