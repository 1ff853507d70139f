# Planted streams through the real conceptwatchd and their scorecard: a
# library for the end-to-end tests and for bench/science, whichever is
# configured first defines it.
if(NOT TARGET cw_planted_stream)
  if(NOT TARGET cw_test_support)
    include(${CMAKE_CURRENT_LIST_DIR}/../support/CMakeLists.txt)
  endif()
  add_library(cw_planted_stream STATIC
    ${CMAKE_CURRENT_LIST_DIR}/planted_stream.cc
    ${CMAKE_CURRENT_LIST_DIR}/planted_scorecard.cc)
  target_link_libraries(cw_planted_stream PUBLIC cw_test_support cw_planted nlohmann_json::nlohmann_json)
  target_compile_definitions(cw_planted_stream PRIVATE CW_CLI_PATH="$<TARGET_FILE:conceptwatch>")
  add_dependencies(cw_planted_stream conceptwatch)
endif()
