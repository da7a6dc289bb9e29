/* The installed C API from plain C. */
#include <stdio.h>

#include "breadth.h"

int main(int argc, char** argv) {
  breadth_model* m = NULL;
  breadth_tokens t = {NULL, 0};
  int ok;
  if (argc < 2) return 2;
  if (breadth_model_load(argv[1], NULL, &m) != BREADTH_OK) {
    fprintf(stderr, "%s\n", breadth_last_error());
    return 1;
  }
  ok = breadth_tokenize(m, "Hello world", 0, 0, &t) == BREADTH_OK && t.count > 0;
  printf("breadth %s (C ABI %d): %zu tokens\n", breadth_version(), breadth_abi_version(), t.count);
  breadth_tokens_free(&t);
  breadth_model_free(m);
  return ok ? 0 : 1;
}
