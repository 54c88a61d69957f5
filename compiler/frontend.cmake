# frontend.cmake: the front end library: parse (ANTLR), AST, diagnostics, sema + lowering, driver, fmt.
add_library(ethogram_frontend STATIC
    ${CMAKE_CURRENT_LIST_DIR}/ast/dump.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diag/diagnostics.cpp
    ${CMAKE_CURRENT_LIST_DIR}/parse/parser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/parse/ast_builder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema_decls.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema_expr.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema_rules.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema_calls.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sema/sema_models.cpp
    ${CMAKE_CURRENT_LIST_DIR}/driver/compile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fmt/formatter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ir/printer.cpp)
ethogram_target(ethogram_frontend)
target_link_libraries(ethogram_frontend PUBLIC ethogram_ir PRIVATE ethogram_parser ethogram_models PkgConfig::SODIUM)
