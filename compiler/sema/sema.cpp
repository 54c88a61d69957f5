// sema.cpp: the analysis driver (declaration order across files) and shared helpers.
#include "compiler/sema/sema.h"
#include "compiler/sema/sema_internal.h"

namespace ethogram::sema {

ir::ExprId Sema::add(ir::Expr e) {
    rs.exprs.push_back(std::move(e));
    return static_cast<ir::ExprId>(rs.exprs.size() - 1);
}

uint32_t Sema::intern(const std::string& s) {
    auto [it, fresh] = string_ids.emplace(s, static_cast<uint32_t>(rs.strings.size()));
    if (fresh) rs.strings.push_back(s);
    return it->second;
}

int64_t Sema::duration(const ast::DurationLit& d, const char* what, bool allow_zero) {
    if (!d.has_unit) {
        diags.error("E0004", d.span, std::string(what) + " needs a unit: `ms`, `s`, `m`, `h` or `d`");
        return 0;
    }
    if (d.us < 0 || (d.us == 0 && !allow_zero)) {
        diags.error("E0609", d.span, std::string(what) + " must be positive");
        return 0;
    }
    return d.us;
}

std::vector<std::string> Sema::event_names() const {
    std::vector<std::string> out;
    for (const auto& e : rs.events) out.push_back(e.name);
    return out;
}

int Sema::find_event(const ast::Ident& name, bool report) {
    auto it = event_index.find(name.text);
    if (it != event_index.end()) return it->second;
    if (report) {
        auto& d = diags.error("E0201", name.span, "unknown event type `" + name.text + "`");
        compiler::suggest(d, name.text, event_names());
    }
    return -1;
}

std::vector<std::string> Sema::taxonomy_paths() const {
    std::vector<std::string> out;
    for (const auto& n : rs.taxonomy) out.push_back(n.path);
    return out;
}

uint16_t Sema::field_slot(uint16_t type, const std::string& field) const {
    const auto& fs = rs.events[type].fields;
    for (size_t i = 0; i < fs.size(); ++i)
        if (fs[i].name == field) return static_cast<uint16_t>(i);
    return ir::kNoField;
}

std::string span_text(const compiler::DiagnosticEngine& d, const ast::Span& s) {
    const std::string& t = d.file_text(s.file);
    if (s.begin > t.size() || s.end > t.size() || s.end < s.begin) return {};
    return t.substr(s.begin, s.end - s.begin);
}

std::unique_ptr<ir::RuleSet> analyze(const std::vector<const ast::File*>& files,
                                     compiler::DiagnosticEngine& diags) {
    size_t errors_before = diags.error_count();
    Sema s(diags);
    // Declarations are visible everywhere (one namespace): schemas first, then taxonomies and sessions
    // (which refer to schemas), rules, and groups (which refer to rules).
    for (const auto* f : files)
        for (const auto& e : f->events) s.declare_event(e);
    for (const auto* f : files)
        for (const auto& t : f->taxonomies) s.declare_taxonomy(t);
    for (const auto* f : files)
        for (const auto& ss : f->sessions) s.declare_session(ss);
    for (const auto* f : files)
        for (const auto& m : f->models) s.declare_model(m);
    for (const auto* f : files)
        for (const auto& r : f->rules) s.declare_rule(r);
    std::vector<ast::Span> group_spans;
    for (const auto* f : files)
        for (const auto& g : f->groups) s.declare_group(g, group_spans);
    if (diags.error_count() != errors_before) return nullptr;
    return std::make_unique<ir::RuleSet>(std::move(s.rs));
}

} // namespace ethogram::sema
