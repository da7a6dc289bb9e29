// Gives breadth_test_pch a translation unit; its precompiled header (Catch2 + libtorch) is reused by
// every test that links a libtorch component, so each test file no longer parses torch from scratch.
// It is an executable (not a library) so that it compiles with the same -fPIE as the tests; gcc
// refuses a precompiled header built with different code-generation flags.
int main() { return 0; }
