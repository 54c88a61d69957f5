// parser.h: parses one rule file into the AST and exposes its token stream (for the formatter).
// ANTLR stays inside compiler/parse: nothing here names an ANTLR type.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include <optional>
#include <string>
#include <vector>

namespace ethogram::parse {

/// Parses file `file_id` of `diags` (its text is the engine's). Syntax errors are reported as E0001..E0005;
/// nullopt when any was reported.
std::optional<ast::File> parse_file(uint32_t file_id, compiler::DiagnosticEngine& diags);

enum class TokKind : uint8_t { Keyword, Ident, Number, String, Duration, Annotation, Punct, Comment, Eof };

/// A lexed token: comments included (they are on ANTLR's hidden channel), whitespace not.
struct Token {
    TokKind kind = TokKind::Punct;
    std::string text;
    uint32_t line = 0;
    uint32_t col = 0;
};

/// The tokens of a file that parses (nullopt with diagnostics otherwise), comments in place, Eof last.
std::optional<std::vector<Token>> tokenize(uint32_t file_id, compiler::DiagnosticEngine& diags);

} // namespace ethogram::parse
