// parse_internal.h: shared between the ANTLR driver (parser.cpp) and the tree-to-AST builder; never
// included outside compiler/parse.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include "EthogramParser.h"

#include <string>
#include <vector>

namespace ethogram::parse {

/// Maps ANTLR's code-point offsets to byte offsets of the UTF-8 text.
struct SourceMap {
    uint32_t file = 0;
    const std::string* text = nullptr;
    std::vector<uint32_t> cp_to_byte; ///< size = code points + 1

    ast::Span token_span(const antlr4::Token* t) const;
    ast::Span ctx_span(antlr4::ParserRuleContext* ctx) const;
    std::string slice(const ast::Span& s) const { return text->substr(s.begin, s.end - s.begin); }
};

/// Converts a successfully parsed tree to the AST; reports literal errors (E0004, E0005).
ast::File build_ast(ethogram_grammar::EthogramParser::FileContext* tree, const SourceMap& map,
                    compiler::DiagnosticEngine& diags);

} // namespace ethogram::parse
