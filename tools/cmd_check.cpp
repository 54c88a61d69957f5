// cmd_check.cpp: `etho check FILES...`: compile, report diagnostics, optionally dump the AST or IR.
#include "compiler/driver/compile.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace ethogram::tools {

bool paths_exist(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        std::error_code ec;
        if (!std::filesystem::exists(p, ec)) {
            fmt::print(stderr, "etho: {}: no such file or directory\n", p);
            return false;
        }
    }
    return true;
}

CLI::App* add_check(CLI::App& app, CheckOptions& o) {
    CLI::App* cmd =
        app.add_subcommand("check", "Compile rule files and report diagnostics (exit 1 on errors)");
    cmd->add_option("files", o.files, "Rule files or folders of *.etho files")->required();
    cmd->add_flag("--dump-ast", o.dump_ast, "Print the parsed syntax tree");
    cmd->add_flag("--dump-ir", o.dump_ir, "Print the compiled IR");
    return cmd;
}

int run_check(const CheckOptions& o) {
    if (!paths_exist(o.files)) return kExitUsage;
    compiler::Diagnostics diags;
    compiler::CompileOptions copts;
    copts.dump_ast = o.dump_ast;
    copts.require_header = false; // checking a shared schema file alone is fine
    compiler::CompileResult res = compiler::compile_paths(o.files, diags, copts);
    diags.print(std::cerr);
    if (o.dump_ast) std::cout << res.ast_dump;
    if (!res.ruleset || diags.error_count() > 0) {
        fmt::print(stderr, "etho: check failed: {} error(s)\n", diags.error_count());
        return kExitCompile;
    }
    if (o.dump_ir) std::cout << compiler::dump_ir(*res.ruleset);
    const ir::RuleSet& rs = *res.ruleset;
    std::string name = rs.name.empty() ? "(no ruleset header)" : rs.name + " " + rs.version;
    std::cout << fmt::format("ok: {}: {} rules, {} event types\n", name, rs.rules.size(), rs.events.size());
    return kExitOk;
}

} // namespace ethogram::tools
