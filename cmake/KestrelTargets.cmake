# Helpers shared by every part of the build.

# The project's own code builds with warnings as errors.
function(kestrel_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

set(KESTREL_PLUGIN_EXPORTS ${CMAKE_CURRENT_LIST_DIR}/kestrel_plugin.map)

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
  if(NOT KESTREL_SANITIZE AND NOT KESTREL_TSAN AND NOT KESTREL_FUZZ)
    # Sanitizer runtimes are provided by the executable, so -z defs would fail there.
    target_link_options(${target} PRIVATE -Wl,-z,defs)
  endif()
  # Only kestrel_plugin_negotiate leaves the module: Poco's headers force
  # default visibility on their classes, so -fvisibility=hidden alone would
  # still export the Poco template instances compiled into it.
  target_link_options(${target} PRIVATE -Wl,--version-script=${KESTREL_PLUGIN_EXPORTS})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${KESTREL_PLUGIN_EXPORTS})
  target_link_libraries(${target} PRIVATE kestrel::sdk ${P_LIBRARIES})
  kestrel_warnings(${target})
  install(TARGETS ${target} LIBRARY DESTINATION lib/kestrel/plugins)
  set_property(GLOBAL APPEND PROPERTY KESTREL_PLUGIN_TARGETS ${target})
endfunction()

# kestrel_add_test(<name> SOURCES ... [LIBRARIES ...] [LABELS ...] [TIMEOUT s])
# One CppUnit executable registered with CTest, linked with the shared main
# (kestrel_test_main, tests/support). KESTREL_BUILD_DIR and KESTREL_SOURCE_DIR
# are set in its environment.
# Seconds the long tests took in a Release CI run (2026-12-08). With -j, ctest
# starts the costliest first; without costs it starts in definition order, and
# the longest tests, defined last, ran alone at the end of each stage.
set(KESTREL_TEST_COSTS
  integration_changelog_remote=47 integration_ha_coordinator=45 integration_replication_start=36
  integration_ha_catalog=26 integration_replication_streaming=23 integration_replication_failover=21
  integration_ha_kestreld=21 integration_ha_etcd=27 integration_coordinator_etcd=17 integration_changelog=17
  integration_replication_split_brain=14 integration_changelog_postgres=14 store_postgres_test=13
  integration_replication_lost_slot=12 integration_ha_etcd_postgres=16 pg_cluster_test=10)

function(kestrel_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kestrel_test_main kestrel::sdk ${T_LIBRARIES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  kestrel_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "KESTREL_BUILD_DIR=${CMAKE_BINARY_DIR};KESTREL_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
  foreach(cost ${KESTREL_TEST_COSTS})
    if(cost MATCHES "^${name}=([0-9]+)$")
      set_tests_properties(${name} PROPERTIES COST ${CMAKE_MATCH_1})
    endif()
  endforeach()
endfunction()

