# `cmake --install` + find_package(breadth) for other CMake projects.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# libtorch stays where pip put it, so the installed library and tool find it by an absolute RPATH
# (a program's own RUNPATH does not reach the dependencies of the libraries it loads).
get_filename_component(_breadth_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
if(NOT SKBUILD)  # a wheel finds torch beside it instead (bindings/python/CMakeLists.txt)
  set_target_properties(breadth PROPERTIES INSTALL_RPATH "$ORIGIN;${_breadth_torch_lib_dir}")
endif()
if(TARGET breadth_cli)
  set_target_properties(breadth_cli PROPERTIES
    INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR};${_breadth_torch_lib_dir}")
endif()

install(TARGETS breadth EXPORT breadthTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/breadth DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/breadth/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/breadth)
install(EXPORT breadthTargets NAMESPACE breadth:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/breadth)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/breadthConfig.cmake.in
  ${PROJECT_BINARY_DIR}/breadthConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/breadth)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/breadthConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/breadthConfig.cmake ${PROJECT_BINARY_DIR}/breadthConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/breadth)
