# Quick start: `make demo` and `make test`. Every target runs the same idempotent setup first.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_ARGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
VENV_PY  := $(CURDIR)/.venv/bin/python
# The Python module is always built, against the venv's torch (setup makes the venv before configure;
# do not test for it here: make expands variables before `setup` has run on a fresh clone).
PYTHON_ARGS := -DBREADTH_BUILD_PYTHON=ON -DPython3_EXECUTABLE=$(VENV_PY)

.PHONY: all setup configure build test soak demo bench fuzz sanitize sanitize-quick tsan cuda-check clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(PYTHON_ARGS) $(CMAKE_ARGS)

configure: setup $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/python_pth.sh $(BUILD)

# The whole suite, soak included. A missing model fails its test; BREADTH_ALLOW_MISSING_MODELS=1 makes
# those skips instead (never in CI).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1200

# Just the soak (also part of `make test`): 10,000 short generations through the C API in one process,
# resident memory flat after warm-up (tests/soak/soak_capi.c), and the same program under valgrind
# with no definite leaks.
soak: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1800 -L soak

# The demo builds only the command-line tool it runs (not the test suite).
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target breadth_cli
	bash scripts/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) -j $(JOBS) --target breadth_benchmarks
	bash benchmarks/run_all.sh $(BUILD)

# The whole suite (Python included) under AddressSanitizer + UndefinedBehaviorSanitizer, with the
# in-tree suppressions of tests/sanitizers/ (each documented). -O1 -g1: line tables are all a sanitizer
# stack needs, and full debug info of libtorch's headers doubles the build; -fno-omit-frame-pointer keeps
# the stacks. Sanitizer objects go to their own ccache beside the everyday one so that they never evict
# it. Not the soak (ASan's quarantine holds freed memory on purpose, so resident size says nothing
# there). About 90 CPU-minutes of build on this machine kind. `make sanitize-quick` runs only the
# `sanitize`-labelled readers, tokenizers and C API.
SANITIZE_CACHE ?= $(HOME)/.cache/breadth/ccache-sanitize
SANITIZE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBREADTH_SANITIZE=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
sanitize: setup
	CCACHE_DIR=$(SANITIZE_CACHE) cmake -S . -B build-asan $(GENERATOR) $(SANITIZE_FLAGS) \
	  -DBREADTH_BUILD_BENCHMARKS=OFF $(PYTHON_ARGS) $(CMAKE_ARGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure --timeout 3600 -LE soak

sanitize-quick: setup
	CCACHE_DIR=$(SANITIZE_CACHE) cmake -S . -B build-asan $(GENERATOR) $(SANITIZE_FLAGS) $(PYTHON_ARGS) $(CMAKE_ARGS)
	cmake --build build-asan -j $(JOBS) --target breadth_sanitize_tests
	cd build-asan && ctest --output-on-failure -L sanitize

# ThreadSanitizer build of the concurrency stress test (tests/concurrency: C++ and C API from 8 threads
# on shared models), with tests/sanitizers/tsan.supp. The Python face is not in it (the interpreter is
# not instrumented); its own stress test runs in `make test`.
tsan: setup
	cmake -S . -B build-tsan $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBREADTH_TSAN=ON \
	  -DBREADTH_BUILD_EXAMPLES=OFF -DBREADTH_BUILD_BENCHMARKS=OFF -DBREADTH_BUILD_CLI=OFF $(CMAKE_ARGS)
	cmake --build build-tsan -j $(JOBS) --target test_concurrency
	cd build-tsan && ctest --output-on-failure -L tsan

# libFuzzer (clang) builds of the fuzz targets (file readers, tokenizers, experiment files), each
# fuzzed for BREADTH_FUZZ_SECONDS (default 30) s from generated seeds. Crashes land in
# build-fuzz/fuzz-artifacts/.
BREADTH_FUZZ_SECONDS ?= 30
fuzz: setup
	cmake -S . -B build-fuzz $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DBREADTH_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DBREADTH_BUILD_EXAMPLES=OFF \
	  -DBREADTH_BUILD_BENCHMARKS=OFF -DBREADTH_BUILD_CLI=OFF -DBREADTH_FUZZ_SECONDS=$(BREADTH_FUZZ_SECONDS) $(CMAKE_ARGS)
	cmake --build build-fuzz -j $(JOBS) --target breadth_fuzz_all
	cd build-fuzz && ctest --output-on-failure -L libfuzzer

# The CUDA code paths must compile and link on a machine without a GPU: everything but the tests,
# and the tests labelled "gpu" (run them with `ctest -L gpu` in build-cuda on a machine with one).
CUDA_TESTS := test_model_quantized_gpu test_baco_two_devices
cuda-check: setup
	cmake -S . -B build-cuda $(GENERATOR) -DBREADTH_CUDA=ON -DBREADTH_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build build-cuda -j $(JOBS)
	cmake -S . -B build-cuda -DBREADTH_BUILD_TESTS=ON
	cmake --build build-cuda -j $(JOBS) --target $(CUDA_TESTS)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-cuda
