# Helpers shared by every part of the build.

# The project's own code builds with warnings as errors.
function(kestrel_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

# kestrel_add_plugin(<kind>-<name> SOURCES ... [LIBRARIES ...])
# Builds build/plugins/kestrel-<kind>-<name>.so: hidden visibility (only
# kestrel_plugin_negotiate is exported), every symbol resolved at link time
# (-z defs), built against the SDK only.
function(kestrel_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target kestrel-${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME kestrel-${name}
    LIBRARY_OUTPUT_DIRECTORY ${KESTREL_PLUGIN_DIR}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(NOT KESTREL_SANITIZE AND NOT KESTREL_TSAN)
    # Sanitizer runtimes are provided by the executable, so -z defs would fail there.
    target_link_options(${target} PRIVATE -Wl,-z,defs)
  endif()
  target_link_libraries(${target} PRIVATE kestrel::sdk ${P_LIBRARIES})
  kestrel_warnings(${target})
  install(TARGETS ${target} LIBRARY DESTINATION lib/kestrel/plugins)
endfunction()
