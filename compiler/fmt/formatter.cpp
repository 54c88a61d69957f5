// formatter.cpp: `etho fmt`: a token-stream pretty printer (comments kept, one canonical layout).
#include "compiler/driver/compile.h"

#include "compiler/diag/diagnostics.h"
#include "compiler/parse/parser.h"

#include <algorithm>
#include <set>
#include <vector>

namespace ethogram::compiler {

namespace {

using parse::Token;
using parse::TokKind;

constexpr int kIndent = 4;

bool is(const Token* t, const char* s) {
    return t && t->kind != TokKind::String && t->text == s;
}

/// Keywords after which a `(` opens a call's argument list (soft keywords that are also function names).
bool call_keyword(const std::string& s) {
    return s == "max" || s == "last" || s == "enum";
}

uint32_t end_line(const Token& t) {
    return t.line + static_cast<uint32_t>(std::count(t.text.begin(), t.text.end(), '\n'));
}

constexpr size_t kColumnLimit = 110;

/// Byte offsets in `line` (from `from`) where a top-level occurrence of `sep` starts: outside strings
/// and brackets, and on word boundaries for keyword separators.
std::vector<size_t> top_level(const std::string& line, size_t from, const std::string& sep) {
    std::vector<size_t> at;
    int depth = 0;
    bool in_str = false;
    for (size_t i = from; i < line.size(); ++i) {
        char c = line[i];
        if (in_str) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '(' || c == '[')
            ++depth;
        else if (c == ')' || c == ']')
            --depth;
        else if (depth == 0 && line.compare(i, sep.size(), sep) == 0)
            at.push_back(i);
    }
    return at;
}

/// Wraps one over-long `when`/`confidence` or `emit` line of the canonical layout: a condition breaks
/// before each top-level `or` (or, without one, each `and`), one operand per continuation line; an emit
/// list breaks after each top-level comma, bindings aligned under the first. The input is the printer's
/// own single-line form, so wrapping it again gives the same text (fmt stays idempotent).
std::string wrap_line(const std::string& line) {
    size_t ind = line.find_first_not_of(' ');
    // Lines holding a comment are left alone: a break inside one would change the comment itself.
    if (line.size() <= kColumnLimit || ind == std::string::npos ||
        line.find("//", ind) != std::string::npos || line.find("/*", ind) != std::string::npos)
        return line;
    std::string body = line.substr(ind);
    std::string pad(ind, ' ');
    auto starts = [&](const char* kw) { return body.rfind(kw, 0) == 0; };
    std::string out;
    if (starts("emit ")) {
        auto cuts = top_level(line, ind + 5, ", ");
        if (cuts.empty()) return line;
        size_t from = 0;
        for (size_t c : cuts) {
            out += line.substr(from, c + 1 - from) + "\n" + pad + "     ";
            from = c + 2;
        }
        return out + line.substr(from);
    }
    if (starts("when ") || starts("confidence ")) {
        size_t head = body.find(' ') + 1 + ind;
        auto cuts = top_level(line, head, " or ");
        if (cuts.empty()) cuts = top_level(line, head, " and ");
        if (cuts.empty()) return line;
        size_t from = 0;
        for (size_t c : cuts) {
            out += line.substr(from, c - from) + "\n" + pad + std::string(kIndent, ' ');
            from = c + 1;
        }
        return out + line.substr(from);
    }
    return line;
}

std::string wrap_long_lines(const std::string& text) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        out += wrap_line(text.substr(pos, nl - pos));
        if (nl < text.size()) out += '\n';
        pos = nl + 1;
    }
    return out;
}

class Printer {
public:
    explicit Printer(const std::vector<Token>& toks) : toks_(toks) {}

    std::string run() {
        for (size_t i = 0; i < toks_.size(); ++i) {
            const Token& t = toks_[i];
            if (t.kind == TokKind::Eof) break;
            current_ = &t;
            if (t.kind == TokKind::Comment)
                comment(t);
            else
                token(i);
            prev_line_ = end_line(t);
            has_prev_ = true;
        }
        while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ')) out_.pop_back();
        return out_.empty() ? out_ : out_ + "\n";
    }

private:
    void newline(uint32_t next_line, int extra_indent = 0) {
        out_ += "\n";
        if (has_prev_ && next_line >= prev_line_ + 2 && depth_ >= 0) out_ += "\n";
        out_ += std::string(static_cast<size_t>(std::max(0, depth_ * kIndent + extra_indent)), ' ');
        pending_nl_ = false;
        line_start_ = true;
    }

    void comment(const Token& t) {
        if (has_prev_ && t.line == prev_line_ && !line_start_ && !out_.empty()) {
            out_ += " " + t.text;
        } else {
            if (!out_.empty()) newline(t.line);
            out_ += t.text;
        }
        line_start_ = false;
        if (t.text.rfind("//", 0) == 0) pending_nl_ = true;
        prev_code_ = nullptr;
        after_comment_ = true;
    }

    void token(size_t i) {
        const Token& t = toks_[i];
        const Token* next = i + 1 < toks_.size() ? &toks_[i + 1] : nullptr;
        const std::string& s = t.text;
        bool is_str = t.kind == TokKind::String;
        // A quantifier `{n}`, `{n,}`, `{n,m}` stays inline; every other brace opens a block.
        if (!is_str && s == "{" && next && next->kind == TokKind::Number && prev_code_ &&
            (prev_code_->kind == TokKind::Ident || prev_code_->kind == TokKind::Keyword))
            quant_ = true;
        if (!is_str && s == "}" && !quant_) {
            --depth_;
            if (!out_.empty()) newline(t.line);
            out_ += "}";
            pending_nl_ = true;
            line_start_ = false;
            prev_code_ = &t;
            after_comment_ = false;
            return;
        }
        if (!is_str && s == ";" && is(prev_code_, "}") && !quant_) {
            // Optional `;` after a taxonomy block: keep it attached.
            out_ += ";";
            prev_code_ = &t;
            return;
        }
        if (!is_str && (s == "->" || s == "=>")) {
            newline(t.line, kIndent);
            out_ += s;
            line_start_ = false;
            prev_code_ = &t;
            after_comment_ = false;
            return;
        }
        bool unary =
            !is_str && s == "-" &&
            (!prev_code_ || (prev_code_->kind == TokKind::Keyword && !prev_is_member_) ||
             (prev_code_->kind == TokKind::Punct && prev_code_->text != ")" && prev_code_->text != "]"));
        if (pending_nl_ || (after_comment_ && has_prev_ && t.line > prev_line_)) {
            newline(t.line);
        } else if (!out_.empty() && !line_start_ && space_before(t)) {
            out_ += " ";
        }
        out_ += s;
        line_start_ = false;
        after_comment_ = false;
        prev_unary_ = unary;
        // A keyword right after `.` is a field name (`x.time - 1`): an operand, not an operator.
        prev_is_member_ = prev_code_ && prev_code_->kind == TokKind::Punct && prev_code_->text == ".";
        if (!is_str && s == "{" && !quant_) {
            ++depth_;
            pending_nl_ = true;
        } else if (!is_str && s == "}" && quant_) {
            quant_ = false;
        } else if (!is_str && s == ";") {
            pending_nl_ = true;
        }
        prev_code_ = &t;
    }

    bool space_before(const Token& t) const {
        const Token* p = prev_code_;
        if (!p) return true; // after a block comment
        const std::string& s = t.text;
        bool str = t.kind == TokKind::String;
        if (quant_ && (p->text == "{" || s == "," || s == "}" || p->text == ",")) return false;
        if (!str && (s == ";" || s == "," || s == ")" || s == "]" || s == "." || s == ":" || s == "?"))
            return false;
        if (!str && s == "{" && quant_) return false;
        if (!str && (s == "+" || s == "*") && next_is_quant_context(p)) return false;
        if (p->kind != TokKind::String && (p->text == "(" || p->text == "[" || p->text == ".")) return false;
        if (p->kind == TokKind::Punct && p->text == "-" && prev_unary_) return false;
        if (!str && s == "(" &&
            (p->kind == TokKind::Ident || (p->kind == TokKind::Keyword && call_keyword(p->text))))
            return false;
        return true;
    }

    /// `+` and `*` right after a step's type name (then `where`, a connector, `within` or `;`) are
    /// quantifiers; the parser already guaranteed the token stream is valid, so a type name followed by
    /// `+`/`*` at the end of a step is the only case where no operand follows.
    bool next_is_quant_context(const Token* p) const {
        if (!p || (p->kind != TokKind::Ident && p->kind != TokKind::Keyword)) return false;
        const Token* after = peek_after_current();
        if (!after) return true;
        const std::string& a = after->text;
        return after->kind != TokKind::String &&
               (a == "where" || a == "->" || a == "=>" || a == "within" || a == ";");
    }

    const Token* peek_after_current() const {
        // The first token after the one being printed that is not a comment. current_ points into toks_,
        // so its index is its offset (O(1)); the scan then skips only the comments right after it.
        if (!current_ || toks_.empty() || current_ < toks_.data() || current_ >= toks_.data() + toks_.size())
            return nullptr;
        for (size_t j = static_cast<size_t>(current_ - toks_.data()) + 1; j < toks_.size(); ++j)
            if (toks_[j].kind != TokKind::Comment) return &toks_[j];
        return nullptr;
    }

    const std::vector<Token>& toks_;
    std::string out_;
    int depth_ = 0;
    bool pending_nl_ = false;
    bool line_start_ = true;
    bool has_prev_ = false;
    bool quant_ = false;
    bool after_comment_ = false;
    bool prev_unary_ = false;
    bool prev_is_member_ = false;
    uint32_t prev_line_ = 0;
    const Token* prev_code_ = nullptr;
    const Token* current_ = nullptr;
};

} // namespace

std::optional<std::string> format_source(std::string_view name, std::string_view text, Diagnostics& diags) {
    DiagnosticEngine& eng = diags.engine();
    uint32_t id = eng.add_file(std::string(name), std::string(text));
    auto toks = parse::tokenize(id, eng);
    if (!toks) return std::nullopt;
    return wrap_long_lines(Printer(*toks).run());
}

} // namespace ethogram::compiler
