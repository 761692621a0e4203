# Cross-configures for macOS with zig's copy of the macOS SDK headers and libSystem stubs, so
# that cmake/features.cmake probes macOS itself (ci/test-portability macos). CMAKE_C_COMPILER is
# a wrapper around `zig cc -target <arch>-macos.<version>`, CMAKE_AR and CMAKE_RANLIB around
# `zig ar` and `zig ranlib`; zig sets the target, so CMake adds no -arch, -isysroot or
# -mmacosx-version-min of its own. SOCKSPEC_CROSS_SYSROOT holds all else the build may find
# (Criterion's headers and a pkg-config file for them), never the host's libraries.
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR arm64)
set(CMAKE_OSX_ARCHITECTURES "" CACHE STRING "zig sets the target" FORCE)
set(CMAKE_OSX_DEPLOYMENT_TARGET "" CACHE STRING "zig sets the target" FORCE)
set(CMAKE_OSX_SYSROOT "" CACHE STRING "zig ships the SDK headers" FORCE)

if(NOT SOCKSPEC_CROSS_SYSROOT)
  message(FATAL_ERROR "set SOCKSPEC_CROSS_SYSROOT (see ci/test-portability macos)")
endif()
# The feature probes (try_compile) read this file again: they need the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SOCKSPEC_CROSS_SYSROOT)
set(CMAKE_FIND_ROOT_PATH "${SOCKSPEC_CROSS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config reads the cross sysroot's .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "${SOCKSPEC_CROSS_SYSROOT}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
