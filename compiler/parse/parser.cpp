// parser.cpp: drives the ANTLR lexer and parser and rewrites their errors into friendly diagnostics.
#include "compiler/parse/parser.h"
#include "compiler/parse/parse_internal.h"

#include "EthogramLexer.h"
#include "antlr4-runtime.h"

#include <set>

namespace ethogram::parse {

using ethogram_grammar::EthogramLexer;
using ethogram_grammar::EthogramParser;

ast::Span SourceMap::token_span(const antlr4::Token* t) const {
    ast::Span s;
    s.file = file;
    s.line = static_cast<uint32_t>(t->getLine());
    s.col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
    size_t start = t->getStartIndex(), stop = t->getStopIndex();
    if (t->getType() == antlr4::Token::EOF || stop + 1 < start + 1 || start >= cp_to_byte.size()) {
        uint32_t end = static_cast<uint32_t>(text->size());
        s.begin = s.end = start < cp_to_byte.size() ? cp_to_byte[start] : end;
        s.length = 1;
        return s;
    }
    s.begin = cp_to_byte[start];
    s.end = cp_to_byte[std::min(stop + 1, cp_to_byte.size() - 1)];
    s.length = static_cast<uint32_t>(stop + 1 - start);
    return s;
}

ast::Span SourceMap::ctx_span(antlr4::ParserRuleContext* ctx) const {
    ast::Span s = token_span(ctx->getStart());
    const antlr4::Token* stop = ctx->getStop();
    if (stop && stop->getStopIndex() + 1 > ctx->getStart()->getStartIndex() &&
        stop->getType() != antlr4::Token::EOF) {
        ast::Span e = token_span(stop);
        s.end = e.end;
        // The caret covers the whole construct when it sits on one line, else the first token.
        if (e.line == s.line) s.length = e.col + e.length - s.col;
    }
    return s;
}

namespace {

bool valid_utf8(const std::string& s) {
    size_t i = 0, n = s.size();
    while (i < n) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
        if (extra == 4 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + extra >= n + (extra == 0 ? 1 : 0))
            return false;
        for (size_t k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        if (extra > 0) {
            auto c1 = static_cast<unsigned char>(s[i + 1]);
            // Overlong forms and UTF-16 surrogates, which the runtime's decoder rejects.
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
                (c == 0xF4 && c1 >= 0x90))
                return false;
        }
        i += extra + 1;
    }
    return true;
}

SourceMap make_map(uint32_t file, const std::string& text) {
    SourceMap m;
    m.file = file;
    m.text = &text;
    for (size_t i = 0; i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
            m.cp_to_byte.push_back(static_cast<uint32_t>(i));
    m.cp_to_byte.push_back(static_cast<uint32_t>(text.size()));
    return m;
}

std::string friendly_token(const antlr4::dfa::Vocabulary& voc, size_t type) {
    switch (type) {
    case antlr4::Token::EOF: return "end of file";
    case EthogramLexer::ID: return "a name";
    case EthogramLexer::INT: return "an integer";
    case EthogramLexer::FLOAT: return "a number";
    case EthogramLexer::STRING: return "a string";
    case EthogramLexer::DURATION: return "a duration";
    case EthogramLexer::SEMVER: return "a version";
    case EthogramLexer::ANNOTATION: return "an annotation";
    default: break;
    }
    std::string lit = voc.getLiteralName(type);
    if (lit.size() >= 2 && lit.front() == '\'')
        return std::string(1, '`').append(lit, 1, lit.size() - 2).append(1, '`');
    return voc.getSymbolicName(type);
}

std::string describe_found(const antlr4::Token* t) {
    if (t->getType() == antlr4::Token::EOF) return "end of file";
    return std::string(1, '`').append(t->getText()).append(1, '`');
}

/// Rewrites ANTLR's messages: the first syntax error of a file is reported, later ones are usually
/// consequences of it.
class FriendlyErrors : public antlr4::BaseErrorListener {
public:
    FriendlyErrors(const SourceMap& map, compiler::DiagnosticEngine& diags) : map_(map), diags_(diags) {}
    bool failed() const { return failed_; }

    void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t,
                     const std::string&, std::exception_ptr) override {
        if (failed_ || !offending) return;
        failed_ = true;
        auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
        std::set<std::string> expected;
        bool wants_semi = false;
        bool wants_close = false;
        if (parser) {
            antlr4::misc::IntervalSet set = parser->getExpectedTokens();
            for (size_t t : set.toList()) {
                if (t == EthogramLexer::SEMI) wants_semi = true;
                if (t == EthogramLexer::RBRACE) wants_close = true;
                // Every soft keyword is also "a name": list the name once.
                if (t >= EthogramLexer::RULESET && t <= EthogramLexer::FALSE &&
                    set.contains(static_cast<size_t>(EthogramLexer::ID)))
                    continue;
                expected.insert(friendly_token(parser->getVocabulary(), t));
            }
        }
        const antlr4::Token* prev = previous_token(parser, offending);
        ast::Span span = map_.token_span(offending);
        std::string found = describe_found(offending);
        if (wants_semi && prev && (expected.size() <= 3 || offending->getLine() > prev->getLine())) {
            // A missing `;` is best pointed at the end of the previous token, where it belongs.
            ast::Span at = map_.token_span(prev);
            at.col += at.length;
            at.begin = at.end;
            at.length = 1;
            diags_.error("E0001", at, "expected `;` after `" + prev->getText() + "`");
            return;
        }
        if (wants_close && offending->getType() == antlr4::Token::EOF) {
            diags_.error("E0001", span, "unexpected end of file: missing `}`");
            return;
        }
        std::string list;
        size_t i = 0;
        for (const auto& e : expected) {
            if (i == 6) {
                list += ", ...";
                break;
            }
            list += (i == 0 ? "" : i + 1 == expected.size() ? " or " : ", ") + e;
            ++i;
        }
        if (list.empty())
            diags_.error("E0001", span, "unexpected " + found);
        else
            diags_.error("E0001", span, "expected " + list + ", found " + found);
    }

private:
    static const antlr4::Token* previous_token(antlr4::Parser* parser, const antlr4::Token* offending) {
        if (!parser) return nullptr;
        auto* stream = dynamic_cast<antlr4::BufferedTokenStream*>(parser->getTokenStream());
        if (!stream) return nullptr;
        for (ssize_t i = static_cast<ssize_t>(offending->getTokenIndex()) - 1; i >= 0; --i) {
            antlr4::Token* t = stream->get(static_cast<size_t>(i));
            if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return t;
        }
        return nullptr;
    }

    const SourceMap& map_;
    compiler::DiagnosticEngine& diags_;
    bool failed_ = false;
};

/// Lexes `text`; reports lexical errors (E0002 bad character, E0003 unterminated string or comment,
/// E0005 nesting too deep). Returns false when any was reported.
bool check_tokens(antlr4::CommonTokenStream& tokens, const SourceMap& map,
                  compiler::DiagnosticEngine& diags) {
    int depth = 0;
    for (antlr4::Token* t : tokens.getTokens()) {
        switch (t->getType()) {
        case EthogramLexer::BAD_CHAR:
            diags.error("E0002", map.token_span(t), "unexpected character `" + t->getText() + "`");
            return false;
        case EthogramLexer::UNTERMINATED_STRING:
            diags.error("E0003", map.token_span(t), "unterminated string literal");
            return false;
        case EthogramLexer::UNTERMINATED_COMMENT: {
            ast::Span s = map.token_span(t);
            s.length = 2;
            diags.error("E0003", s, "unterminated block comment");
            return false;
        }
        case EthogramLexer::LPAREN:
        case EthogramLexer::LBRACE:
        case EthogramLexer::LBRACK:
            // Deep nesting would exhaust the stack of the recursive-descent parser.
            if (++depth > 64) {
                diags.error("E0005", map.token_span(t), "nesting too deep (more than 64 levels)");
                return false;
            }
            break;
        case EthogramLexer::RPAREN:
        case EthogramLexer::RBRACE:
        case EthogramLexer::RBRACK: --depth; break;
        default: break;
        }
    }
    return true;
}

struct Lexed {
    SourceMap map;
    std::unique_ptr<antlr4::ANTLRInputStream> input;
    std::unique_ptr<EthogramLexer> lexer;
    std::unique_ptr<antlr4::CommonTokenStream> tokens;
};

std::unique_ptr<Lexed> lex(uint32_t file_id, compiler::DiagnosticEngine& diags) {
    const std::string& text = diags.file_text(file_id);
    if (!valid_utf8(text)) {
        diags.error("E0002", std::nullopt, "`" + diags.file_name(file_id) + "` is not valid UTF-8");
        return nullptr;
    }
    auto l = std::make_unique<Lexed>();
    l->map = make_map(file_id, text);
    l->input = std::make_unique<antlr4::ANTLRInputStream>(text);
    l->lexer = std::make_unique<EthogramLexer>(l->input.get());
    l->lexer->removeErrorListeners();
    l->tokens = std::make_unique<antlr4::CommonTokenStream>(l->lexer.get());
    l->tokens->fill();
    if (!check_tokens(*l->tokens, l->map, diags)) return nullptr;
    return l;
}

TokKind kind_of(size_t type) {
    if (type >= EthogramLexer::RULESET && type <= EthogramLexer::FALSE) return TokKind::Keyword;
    switch (type) {
    case antlr4::Token::EOF: return TokKind::Eof;
    case EthogramLexer::ID: return TokKind::Ident;
    case EthogramLexer::INT:
    case EthogramLexer::FLOAT:
    case EthogramLexer::SEMVER: return TokKind::Number;
    case EthogramLexer::DURATION: return TokKind::Duration;
    case EthogramLexer::STRING: return TokKind::String;
    case EthogramLexer::ANNOTATION: return TokKind::Annotation;
    case EthogramLexer::LINE_COMMENT:
    case EthogramLexer::BLOCK_COMMENT: return TokKind::Comment;
    default: return TokKind::Punct;
    }
}

} // namespace

std::optional<ast::File> parse_file(uint32_t file_id, compiler::DiagnosticEngine& diags) {
    auto l = lex(file_id, diags);
    if (!l) return std::nullopt;
    EthogramParser parser(l->tokens.get());
    parser.removeErrorListeners();
    FriendlyErrors errors(l->map, diags);
    EthogramParser::FileContext* tree = nullptr;
    // Two-stage parsing (ANTLR's ParserATNSimulator documentation): SLL prediction first, which bails
    // out at the first syntax error; if it succeeds the tree is the one full LL prediction gives, at a
    // fraction of the prediction cost (the DFA starts cold in every process: this is start-up time of
    // every `etho check` and `etho run`). Only a file SLL rejects is parsed again with LL and error
    // recovery, so diagnostics are unchanged.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    try {
        tree = parser.file();
    } catch (const std::exception&) { // antlr4::ParseCancellationException: SLL met a syntax error
        tree = nullptr;
    }
    if (!tree) {
        l->tokens->seek(0);
        parser.reset();
        parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
        parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
            antlr4::atn::PredictionMode::LL);
        parser.addErrorListener(&errors);
    }
    try {
        if (!tree) tree = parser.file();
    } catch (const std::exception& e) {
        // Not expected (the default strategy recovers), but the front end must never crash on input.
        if (!errors.failed()) diags.error("E0001", std::nullopt, std::string("parse failure: ") + e.what());
        return std::nullopt;
    }
    if (errors.failed()) return std::nullopt;
    size_t before = diags.error_count();
    ast::File f = build_ast(tree, l->map, diags);
    if (diags.error_count() != before) return std::nullopt;
    return f;
}

std::optional<std::vector<Token>> tokenize(uint32_t file_id, compiler::DiagnosticEngine& diags) {
    if (!parse_file(file_id, diags)) return std::nullopt;
    auto l = lex(file_id, diags);
    if (!l) return std::nullopt;
    std::vector<Token> out;
    for (antlr4::Token* t : l->tokens->getTokens()) {
        Token tok;
        tok.kind = kind_of(t->getType());
        tok.text = t->getType() == antlr4::Token::EOF ? "" : t->getText();
        tok.line = static_cast<uint32_t>(t->getLine());
        tok.col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
        out.push_back(std::move(tok));
    }
    return out;
}

} // namespace ethogram::parse
