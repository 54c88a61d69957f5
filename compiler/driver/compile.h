// compile.h: the front end's public entry points: rule files in, a checked ir::RuleSet or diagnostics out.
// Callers (the CLI, the runtime's loader, tests, the fuzzer) see no ANTLR type through this header.
#pragma once

#include "compiler/ir/ir.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::compiler {

class DiagnosticEngine; // compiler/diag/diagnostics.h

/// Collects diagnostics of one compilation and renders them clang-style:
/// `file:line:col: error[E0123]: message`, the source line, a caret under the span, notes.
class Diagnostics {
public:
    Diagnostics();
    ~Diagnostics();
    Diagnostics(const Diagnostics&) = delete;
    Diagnostics& operator=(const Diagnostics&) = delete;

    size_t error_count() const;
    size_t warning_count() const;
    /// Every diagnostic, in emission order, rendered as text (no colours).
    std::string render() const;
    void print(std::ostream& os) const;
    /// The engine the front end reports into.
    DiagnosticEngine& engine();

private:
    std::unique_ptr<DiagnosticEngine> impl_;
};

struct CompileOptions {
    bool dump_ast = false; ///< fill CompileResult::ast_dump
    /// Whether a run needs a `ruleset` header (etho check on a shared schema file does not).
    bool require_header = true;
};

struct CompileResult {
    std::unique_ptr<ir::RuleSet> ruleset; ///< null when any error was reported
    std::string ast_dump;                 ///< with CompileOptions::dump_ast
};

/// Compiles one rule set from files and folders (a folder contributes its `*.etho` files, sorted by
/// name, not recursive). Imports are resolved relative to the importing file. All inputs form one rule
/// set: exactly one of them (or the first) carries the `ruleset` header.
CompileResult compile_paths(const std::vector<std::string>& paths, Diagnostics& diags,
                            const CompileOptions& opts = {});

/// Compiles in-memory text named `name` (imports resolved relative to the current directory).
CompileResult compile_source(std::string_view name, std::string_view text, Diagnostics& diags,
                             const CompileOptions& opts = {});

/// Canonical formatting of one file (`etho fmt`): idempotent, comments kept. nullopt (with diagnostics)
/// when the text does not parse.
std::optional<std::string> format_source(std::string_view name, std::string_view text, Diagnostics& diags);

/// Human-readable, stable dump of the IR (`--dump-ir`, golden tests).
std::string dump_ir(const ir::RuleSet& rs);

} // namespace ethogram::compiler
