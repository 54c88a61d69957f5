// cmd_fmt.cpp: `etho fmt FILES... [--check]`: canonical formatting of rule files.
#include "compiler/driver/compile.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace ethogram::tools {

namespace {

bool read_text(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

} // namespace

CLI::App* add_fmt(CLI::App& app, FmtOptions& o) {
    CLI::App* cmd = app.add_subcommand("fmt", "Rewrite rule files in canonical form");
    cmd->add_option("files", o.files, "Rule files")->required();
    cmd->add_flag("--check", o.check, "Change nothing; list the files that would change and exit 1");
    return cmd;
}

int run_fmt(const FmtOptions& o) {
    if (!paths_exist(o.files)) return kExitUsage;
    int rc = kExitOk;
    for (const auto& path : o.files) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            fmt::print(stderr, "etho: {}: is a directory (fmt takes files)\n", path);
            return kExitUsage;
        }
        std::string text;
        if (!read_text(path, text)) {
            fmt::print(stderr, "etho: {}: cannot read\n", path);
            return kExitUsage;
        }
        compiler::Diagnostics diags;
        std::optional<std::string> formatted = compiler::format_source(path, text, diags);
        if (!formatted) {
            diags.print(std::cerr);
            fmt::print(stderr, "etho: {}: not formatted (it does not parse)\n", path);
            rc = kExitCompile;
            continue;
        }
        if (*formatted == text) continue;
        if (o.check) {
            std::cout << path << "\n";
            rc = kExitCompile;
            continue;
        }
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << *formatted;
        if (!out.flush()) {
            fmt::print(stderr, "etho: {}: cannot write\n", path);
            return kExitUsage;
        }
        fmt::print(stderr, "etho: formatted {}\n", path);
    }
    if (o.check && rc == kExitCompile)
        fmt::print(stderr, "etho: the files above are not canonically formatted\n");
    return rc;
}

} // namespace ethogram::tools
