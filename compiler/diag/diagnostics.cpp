// diagnostics.cpp: diagnostic storage, rendering and edit-distance suggestions.
#include "compiler/diag/diagnostics.h"

#include "compiler/driver/compile.h"

#include <algorithm>
#include <ostream>

namespace ethogram::compiler {

uint32_t DiagnosticEngine::add_file(std::string name, std::string text) {
    File f;
    f.name = std::move(name);
    f.text = std::move(text);
    f.line_starts.push_back(0);
    for (size_t i = 0; i < f.text.size(); ++i)
        if (f.text[i] == '\n') f.line_starts.push_back(static_cast<uint32_t>(i + 1));
    files_.push_back(std::move(f));
    return static_cast<uint32_t>(files_.size() - 1);
}

Diagnostic& DiagnosticEngine::error(std::string code, std::optional<ast::Span> span, std::string message) {
    ++errors_;
    diags_.push_back(Diagnostic{Level::Error, std::move(code), std::move(message), span, {}});
    return diags_.back();
}

Diagnostic& DiagnosticEngine::warning(std::string code, std::optional<ast::Span> span, std::string message) {
    ++warnings_;
    diags_.push_back(Diagnostic{Level::Warning, std::move(code), std::move(message), span, {}});
    return diags_.back();
}

std::string_view DiagnosticEngine::line_text(const File& f, uint32_t line) const {
    if (line == 0 || line > f.line_starts.size()) return {};
    size_t start = f.line_starts[line - 1];
    size_t end = f.text.find('\n', start);
    if (end == std::string::npos) end = f.text.size();
    if (end > start && f.text[end - 1] == '\r') --end;
    return std::string_view(f.text).substr(start, end - start);
}

void DiagnosticEngine::render_one(std::string& out, Level level, const std::string& code,
                                  const std::string& message, const std::optional<ast::Span>& span) const {
    const bool located = span && span->file < files_.size() && span->line > 0;
    if (located) {
        const File& f = files_[span->file];
        out += f.name + ":" + std::to_string(span->line) + ":" + std::to_string(span->col) + ": ";
    }
    switch (level) {
    case Level::Error: out += "error"; break;
    case Level::Warning: out += "warning"; break;
    case Level::Note: out += "note"; break;
    }
    if (!code.empty()) out += "[" + code + "]";
    out += ": " + message + "\n";
    if (!located) return;
    const File& f = files_[span->file];
    std::string_view text = line_text(f, span->line);
    std::string num = std::to_string(span->line);
    std::string gutter = num.size() < 5 ? std::string(5 - num.size(), ' ') + num : num;
    out += gutter + " | " + std::string(text) + "\n";
    out += std::string(gutter.size(), ' ') + " | ";
    // Keep tabs so that the caret lines up with the source line however tabs are displayed.
    for (uint32_t i = 0; i + 1 < span->col && i < text.size(); ++i) out += text[i] == '\t' ? '\t' : ' ';
    uint32_t avail = span->col - 1 < text.size() ? static_cast<uint32_t>(text.size()) - (span->col - 1) : 1;
    uint32_t len = std::max<uint32_t>(1, std::min(span->length, avail));
    out += '^';
    out.append(len - 1, '~');
    out += '\n';
}

std::string DiagnosticEngine::render() const {
    std::string out;
    for (const auto& d : diags_) {
        render_one(out, d.level, d.code, d.message, d.span);
        for (const auto& n : d.notes) render_one(out, Level::Note, "", n.message, n.span);
    }
    return out;
}

namespace {

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions
/// (the commonest typo) each cost 1.
size_t edit_distance(std::string_view a, std::string_view b) {
    const size_t w = b.size() + 1;
    std::vector<size_t> d((a.size() + 1) * w);
    for (size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v =
                std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                v = std::min(v, d[(i - 2) * w + j - 2] + 1);
            d[i * w + j] = v;
        }
    }
    return d[a.size() * w + b.size()];
}

} // namespace

std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& candidates) {
    // A third of the name's length (at least 1, at most 3) keeps suggestions to plausible typos.
    size_t limit = std::clamp<size_t>(name.size() / 3, 1, 3);
    std::optional<std::string> best;
    size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        if (c == name) continue;
        size_t d = edit_distance(name, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

void suggest(Diagnostic& d, std::string_view name, const std::vector<std::string>& candidates) {
    if (auto m = closest_match(name, candidates)) d.notes.push_back({"did you mean `" + *m + "`?", {}});
}

// ---------------------------------------------------------------- compile.h's Diagnostics facade

Diagnostics::Diagnostics() : impl_(std::make_unique<DiagnosticEngine>()) {}
Diagnostics::~Diagnostics() = default;
size_t Diagnostics::error_count() const {
    return impl_->error_count();
}
size_t Diagnostics::warning_count() const {
    return impl_->warning_count();
}
std::string Diagnostics::render() const {
    return impl_->render();
}
void Diagnostics::print(std::ostream& os) const {
    os << impl_->render();
}
DiagnosticEngine& Diagnostics::engine() {
    return *impl_;
}

} // namespace ethogram::compiler
