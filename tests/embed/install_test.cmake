# install_test.cmake: `cmake --install BUILD_DIR --prefix WORK_DIR/prefix`, then configure and build
# examples/embed against it with find_package(Ethogram) (EXTRA_FLAGS: compile and link flags, e.g. the
# sanitizers of a sanitized build), and run the demo once.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
foreach(f include/ethogram/engine.h include/ethogram/ethogram.h lib/cmake/Ethogram/EthogramConfig.cmake)
  if(NOT EXISTS ${WORK_DIR}/prefix/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/embed -B ${WORK_DIR}/build -G Ninja
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
                        "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring examples/embed against the installed Ethogram failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building examples/embed against the installed Ethogram failed (${rc})")
endif()
execute_process(COMMAND ${WORK_DIR}/build/embed_demo ${SOURCE_DIR}/examples/fraud/rules
                        ${SOURCE_DIR}/examples/fraud/events.jsonl 30000
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed demo failed (${rc})")
endif()
file(READ ${SOURCE_DIR}/examples/fraud/expected/detections.jsonl expected)
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "the installed demo's detections differ from examples/fraud/expected")
endif()
message(STATUS "install + find_package(Ethogram) + examples/embed: ok")
