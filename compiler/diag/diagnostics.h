// diagnostics.h: the diagnostic engine: stable codes, source files, clang-style rendering.
#pragma once

#include "compiler/ast/ast.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::compiler {

enum class Level : uint8_t { Error, Warning, Note };

/// A note attached to a diagnostic, optionally with its own location.
struct Note {
    std::string message;
    std::optional<ast::Span> span;
};

struct Diagnostic {
    Level level = Level::Error;
    std::string code; ///< "E0201", "W0101"
    std::string message;
    std::optional<ast::Span> span;
    std::vector<Note> notes;
};

/// Owns the source texts of a compilation and the diagnostics reported against them.
class DiagnosticEngine {
public:
    /// Registers a source file; returns its id (used in ast::Span::file).
    uint32_t add_file(std::string name, std::string text);
    const std::string& file_name(uint32_t id) const { return files_[id].name; }
    const std::string& file_text(uint32_t id) const { return files_[id].text; }
    size_t file_count() const { return files_.size(); }

    /// Reports a diagnostic; returns it so that notes can be appended.
    Diagnostic& error(std::string code, std::optional<ast::Span> span, std::string message);
    Diagnostic& warning(std::string code, std::optional<ast::Span> span, std::string message);

    size_t error_count() const { return errors_; }
    size_t warning_count() const { return warnings_; }
    const std::vector<Diagnostic>& diagnostics() const { return diags_; }

    /// Every diagnostic rendered as:
    ///   file:line:col: error[E0201]: message
    ///      12 |     on add_to_crt;
    ///         |        ^~~~~~~~~~
    ///   note: did you mean `add_to_cart`?
    std::string render() const;

private:
    struct File {
        std::string name;
        std::string text;
        std::vector<uint32_t> line_starts;
    };
    void render_one(std::string& out, Level level, const std::string& code, const std::string& message,
                    const std::optional<ast::Span>& span) const;
    std::string_view line_text(const File& f, uint32_t line) const;

    std::vector<File> files_;
    std::vector<Diagnostic> diags_;
    size_t errors_ = 0;
    size_t warnings_ = 0;
};

/// The candidate closest to `name` by edit distance, if close enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view name, const std::vector<std::string>& candidates);

/// Adds "did you mean `x`?" to `d` when a candidate is close to `name`.
void suggest(Diagnostic& d, std::string_view name, const std::vector<std::string>& candidates);

} // namespace ethogram::compiler
