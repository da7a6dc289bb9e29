# cmake -DBUILD_DIR=... -DWORK_DIR=... -DPROJECT_DIR=... -DTORCH_DIR=... -DGENERATOR=... -DFIXTURE=...
#       -P run_consumer.cmake
# Installs the build, builds the consumer project against the installed copy only, and runs it.
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test: `${ARGN}` failed (${rc})")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/breadth.h include/breadth/baco.hpp lib/cmake/breadth/breadthConfig.cmake)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "consumer test: the install lacks ${f}")
  endif()
endforeach()
step(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
     -DCMAKE_PREFIX_PATH=${prefix} -DTorch_DIR=${TORCH_DIR} -DUSE_CUDA=OFF -DCAFFE2_USE_CUDNN=OFF
     "-DCMAKE_C_FLAGS=${SANITIZER_FLAGS}" "-DCMAKE_CXX_FLAGS=${SANITIZER_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${SANITIZER_FLAGS}")
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/consumer ${FIXTURE}/aligned)
step(${WORK_DIR}/build/consumer_c ${FIXTURE}/aligned)
