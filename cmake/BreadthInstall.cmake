# `cmake --install` + find_package(breadth) for other CMake projects.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

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
