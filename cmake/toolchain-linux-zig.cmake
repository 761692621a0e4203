# Cross-compiles static Linux binaries for another architecture or libc with zig (ci/zig), for
# the plain runner under qemu-user (ci/run-elsewhere). CMAKE_C_COMPILER is a wrapper around
# `zig cc -target <SOCKSPEC_ZIG_TARGET>`; nothing of the host's (Criterion, libraries) is found,
# so only what needs no dependency is built.
set(CMAKE_SYSTEM_NAME Linux)
if(NOT SOCKSPEC_ZIG_TARGET)
  message(FATAL_ERROR "set SOCKSPEC_ZIG_TARGET, e.g. s390x-linux-musl (see ci/run-elsewhere)")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SOCKSPEC_ZIG_TARGET)
string(REGEX MATCH "^[^-]+" CMAKE_SYSTEM_PROCESSOR "${SOCKSPEC_ZIG_TARGET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH "${CMAKE_BINARY_DIR}/no-host-libraries")
set(ENV{PKG_CONFIG_LIBDIR} "${CMAKE_BINARY_DIR}/no-host-libraries")
set(ENV{PKG_CONFIG_PATH} "")
