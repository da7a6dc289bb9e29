# breadth_component(NAME <name> [DEPS <targets>...] [TORCH])
#
# Each folder of lib/ is one concept and one static, position-independent library
# `breadth_<name>` (sources globbed, so adding a file needs no CMake edit). The public shared
# library `breadth::breadth` is the whole-archive union of the components; tests link only the
# components they exercise, which keeps their rebuilds small.
set(BREADTH_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(breadth_component)
  cmake_parse_arguments(C "TORCH" "NAME" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/*.cu)
  if(NOT BREADTH_CUDA)
    list(FILTER _srcs EXCLUDE REGEX "\\.cu$")
  endif()
  set(_t breadth_${C_NAME})
  if(NOT _srcs)
    message(FATAL_ERROR "breadth: component '${C_NAME}' has no sources in ${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  add_library(${_t} STATIC ${_srcs})
  target_include_directories(${_t}
    PUBLIC  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/lib)
  target_compile_options(${_t} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${BREADTH_WARNINGS}>)
  set(_component_deps)
  foreach(_dep ${C_DEPS})
    # A dependency that is not a target is a mistake (a typo, a component declared later, a missing
    # package), never something to skip: the layering check and the link would silently disagree.
    if(NOT TARGET ${_dep})
      message(FATAL_ERROR "breadth: component '${C_NAME}' depends on '${_dep}', which is not a target "
                          "(components are declared lowest layer first in lib/CMakeLists.txt)")
    endif()
    target_link_libraries(${_t} PUBLIC ${_dep})
    if(_dep MATCHES "^breadth_(.+)$")
      list(APPEND _component_deps ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY BREADTH_DEPS_${C_NAME} ${_component_deps})
  set_property(GLOBAL APPEND PROPERTY BREADTH_COMPONENT_NAMES ${C_NAME})
  if(C_TORCH)
    target_link_libraries(${_t} PUBLIC ${TORCH_LIBRARIES})
    target_compile_options(${_t} PUBLIC $<$<COMPILE_LANGUAGE:CXX>:${_torch_flags}>)
    # libtorch's headers dominate compile time; precompile them once per component.
    target_precompile_headers(${_t} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:<torch/torch.h$<ANGLE-R>>)
  endif()
  if(BREADTH_CUDA)
    target_compile_definitions(${_t} PUBLIC BREADTH_WITH_CUDA=1)
  endif()
  set_property(GLOBAL APPEND PROPERTY BREADTH_COMPONENTS ${_t})
endfunction()
