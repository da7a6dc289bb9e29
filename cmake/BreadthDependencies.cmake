# libtorch comes from the project's venv (PyPI torch==2.11.0); everything else from Debian -dev packages.
if(NOT Torch_DIR AND NOT CMAKE_PREFIX_PATH MATCHES "torch")
  set(_breadth_python "${CMAKE_SOURCE_DIR}/.venv/bin/python")
  if(NOT EXISTS "${_breadth_python}")
    find_package(Python3 REQUIRED COMPONENTS Interpreter)
    set(_breadth_python "${Python3_EXECUTABLE}")
  endif()
  execute_process(COMMAND "${_breadth_python}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "breadth: cannot find libtorch. Run `make setup` (or scripts/setup.sh) first, "
                        "or pass -DTorch_DIR=<libtorch>/share/cmake/Torch.")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
endif()

if(NOT BREADTH_CUDA)
  # The PyPI wheel is a CUDA build; a CPU-only breadth must not require the toolkit to configure.
  set(USE_CUDA OFF CACHE BOOL "" FORCE)
  set(CAFFE2_USE_CUDNN OFF CACHE BOOL "" FORCE)
endif()
if(BREADTH_CUDA AND NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  # Without a GPU to detect, libtorch's CMake would ask nvcc for its old default list, whose
  # compute_50 CUDA 13 no longer compiles. breadth's own kernels (lib/**/*.cu) for A100 and H100,
  # and PTX that newer GPUs compile at load; -DTORCH_CUDA_ARCH_LIST=... (or the environment
  # variable) picks others.
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0+PTX")
endif()
find_package(Torch REQUIRED)
# TorchConfig puts -D_GLIBCXX_USE_CXX11_ABI and friends into TORCH_CXX_FLAGS.
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")

find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# Unicode normalization (NFC/NFKC/...) and character properties for the tokenizers.
find_package(ICU REQUIRED COMPONENTS uc)
find_package(Eigen3 REQUIRED NO_MODULE)
find_package(CLI11 QUIET)

if(BREADTH_CUDA)
  enable_language(CUDA)
endif()

# libtorch's headers carry their own fmt (a newer version) on the include path. Header-only fmt keeps
# the two versions in distinct inline namespaces and needs no libfmt.so of a matching version.
add_compile_definitions(FMT_HEADER_ONLY=1)
