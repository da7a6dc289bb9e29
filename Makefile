# Quick start: `make demo` and `make test`. Every target runs the same idempotent setup first.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_ARGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all setup configure build test demo bench fuzz sanitize cuda-check clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

configure: setup $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1200

demo: build
	bash scripts/demo.sh $(BUILD)

bench: build
	bash benchmarks/run_all.sh $(BUILD)

# Address+undefined sanitizer build of the file readers', tokenizers' and C API's tests.
sanitize: setup
	cmake -S . -B build-asan $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DBREADTH_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -L sanitize

# The CUDA code paths must compile and link on a machine without a GPU.
cuda-check: setup
	cmake -S . -B build-cuda $(GENERATOR) -DBREADTH_CUDA=ON -DBREADTH_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build build-cuda -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan build-cuda
