# The layering check: a component may include only its own headers and those of the components it
# depends on (directly or through them). Run at configure time over every file of lib/<component>/,
# so that an edge no CMake line declares fails the build instead of hiding behind whole-archive
# linking. Public headers (include/breadth/*.hpp) belong to the component that implements them.
#
# breadth_check_layers() is called once, after every component is declared: it checks now, and adds the
# target `breadth_layers` (part of ALL) that checks again at every build, so an include added without
# re-running CMake is caught too. The same file runs in script mode for that (cmake -P).

cmake_minimum_required(VERSION 3.24)  # script mode (cmake -P) needs the policies too

# Public header -> owning component. A new public header must be added here (the check says so).
set(BREADTH_PUBLIC_HEADER_OWNERS
  error=core version=core progress=core text_models=core
  chat_template=chat
  tokenizer=tokenizer
  model=model
  encoder=encoder
  sampler=sampling answer_set=sampling
  divcov=eval metrics=eval pareto=eval eval_io=eval
  baco=baco baco_rules=baco routing_rule=baco
  methods=methods
  router=routing router_pipeline=routing_pipeline
  spec=spec
  experiment=experiment)

function(_breadth_owner_of_public header out)
  foreach(_pair ${BREADTH_PUBLIC_HEADER_OWNERS})
    string(REPLACE "=" ";" _kv "${_pair}")
    list(GET _kv 0 _h)
    list(GET _kv 1 _c)
    if(_h STREQUAL header)
      set(${out} ${_c} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# All breadth components `comp` may use: itself and its dependencies' closure.
function(_breadth_closure comp out)
  set(_seen ${comp})
  set(_todo ${comp})
  while(_todo)
    list(POP_FRONT _todo _c)
    set(_deps ${BREADTH_DEPS_${_c}})
    foreach(_d ${_deps})
      if(NOT _d IN_LIST _seen)
        list(APPEND _seen ${_d})
        list(APPEND _todo ${_d})
      endif()
    endforeach()
  endwhile()
  set(${out} ${_seen} PARENT_SCOPE)
endfunction()

function(_breadth_check_layers_now)
  set(_components ${BREADTH_COMPONENT_NAMES})
  set(_errors "")
  foreach(_comp ${_components})
    _breadth_closure(${_comp} _allowed)
    file(GLOB _files ${PROJECT_SOURCE_DIR}/lib/${_comp}/*.cpp ${PROJECT_SOURCE_DIR}/lib/${_comp}/*.hpp
                     ${PROJECT_SOURCE_DIR}/lib/${_comp}/*.cu ${PROJECT_SOURCE_DIR}/lib/${_comp}/*.inc)
    foreach(_f ${_files})
      file(STRINGS ${_f} _incs REGEX "^[ \t]*#[ \t]*include[ \t]+\"[a-z_]+/[A-Za-z0-9_.]+\"")
      foreach(_line ${_incs})
        string(REGEX REPLACE ".*\"([a-z_]+)/([A-Za-z0-9_]+)\\.[a-z]+\".*" "\\1;\\2" _parts "${_line}")
        list(GET _parts 0 _dir)
        list(GET _parts 1 _name)
        if(_dir STREQUAL "breadth")
          _breadth_owner_of_public(${_name} _owner)
          if(NOT _owner)
            string(APPEND _errors "  ${_f}: breadth/${_name} has no owner in BREADTH_PUBLIC_HEADER_OWNERS (cmake/BreadthLayers.cmake)\n")
            continue()
          endif()
        else()
          set(_owner ${_dir})
          if(NOT _owner IN_LIST _components)
            string(APPEND _errors "  ${_f}: \"${_dir}/${_name}\" is not a component's header\n")
            continue()
          endif()
        endif()
        if(NOT _owner IN_LIST _allowed)
          file(RELATIVE_PATH _rel ${PROJECT_SOURCE_DIR} ${_f})
          string(APPEND _errors "  ${_rel} includes ${_dir}/${_name} (component '${_owner}'), but '${_comp}' does not depend on '${_owner}'\n")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(_errors)
    message(FATAL_ERROR "breadth: layering violations (declare the dependency in lib/<component>/CMakeLists.txt, "
                        "or move the code to the layer it belongs to; docs/architecture.md):\n${_errors}")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DPROJECT_SOURCE_DIR=... -DBREADTH_LAYERS_FILE=... -P BreadthLayers.cmake
  include(${BREADTH_LAYERS_FILE})
  _breadth_check_layers_now()
  return()
endif()

function(breadth_check_layers)
  get_property(BREADTH_COMPONENT_NAMES GLOBAL PROPERTY BREADTH_COMPONENT_NAMES)
  set(_state "set(BREADTH_COMPONENT_NAMES ${BREADTH_COMPONENT_NAMES})\n")
  foreach(_c ${BREADTH_COMPONENT_NAMES})
    get_property(BREADTH_DEPS_${_c} GLOBAL PROPERTY BREADTH_DEPS_${_c})
    string(APPEND _state "set(BREADTH_DEPS_${_c} ${BREADTH_DEPS_${_c}})\n")
  endforeach()
  _breadth_check_layers_now()
  set(_file ${PROJECT_BINARY_DIR}/breadth_layers.cmake)
  file(WRITE ${_file} "${_state}")
  add_custom_target(breadth_layers ALL
    COMMAND ${CMAKE_COMMAND} -DPROJECT_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DBREADTH_LAYERS_FILE=${_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/BreadthLayers.cmake
    COMMENT "Checking that components include only what they depend on"
    VERBATIM)
endfunction()
