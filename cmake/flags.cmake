# Warnings and sanitizers shared by every target of the project.
include_guard(GLOBAL)

add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
if(SOCKSPEC_WERROR)
  add_compile_options(-Werror)
endif()

if(SOCKSPEC_SANITIZE)
  # Recovery off: a UBSan report must fail the test that caused it.
  add_compile_options(-fsanitize=${SOCKSPEC_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SOCKSPEC_SANITIZE} -fno-sanitize-recover=all)
endif()
