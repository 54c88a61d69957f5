// sema_decls.cpp: checks and lowers event schemas, taxonomies, sessions and exclusive groups.
#include "compiler/sema/sema_internal.h"

#include <set>

namespace ethogram::sema {

using compiler::Diagnostic;
using compiler::suggest;

namespace {

const std::vector<std::string> kTypeNames = {"string",    "int",      "float", "bool",
                                             "timestamp", "duration", "enum"};

ir::Type scalar_type(const std::string& n) {
    if (n == "string") return ir::Type::String;
    if (n == "int") return ir::Type::Int;
    if (n == "float") return ir::Type::Float;
    if (n == "bool") return ir::Type::Bool;
    if (n == "timestamp") return ir::Type::Timestamp;
    if (n == "duration") return ir::Type::Duration;
    return ir::Type::Missing;
}

} // namespace

void Sema::declare_event(const ast::EventDecl& e) {
    if (auto it = event_index.find(e.name.text); it != event_index.end()) {
        auto& d = diags.error("E0202", e.name.span, "duplicate event type `" + e.name.text + "`");
        d.notes.push_back({"previously declared here", event_spans[it->second]});
        return;
    }
    if (rs.events.size() >= ir::kFieldDwell) {
        diags.error("E0202", e.name.span, "too many event types");
        return;
    }
    ir::EventType et;
    et.name = e.name.text;
    std::unordered_map<std::string, ast::Span> seen;
    const ast::Field* key = nullptr;
    const ast::Field* time = nullptr;
    const ast::Field* id = nullptr;
    for (const auto& f : e.fields) {
        if (auto it = seen.find(f.name.text); it != seen.end()) {
            auto& d = diags.error("E0203", f.name.span,
                                  "duplicate field `" + f.name.text + "` in event `" + e.name.text + "`");
            d.notes.push_back({"previously declared here", it->second});
            continue;
        }
        seen.emplace(f.name.text, f.name.span);
        if (f.name.text == "dwell") {
            diags.error("E0214", f.name.span, "`dwell` is reserved: it names the pseudo-field `X.dwell`");
            continue;
        }
        ir::FieldDef fd;
        fd.name = f.name.text;
        fd.optional = f.optional;
        for (const auto& a : f.annotations) fd.annotations.push_back(a.text);
        if (f.type.text == "enum" && !f.enum_values.empty()) {
            fd.type = ir::Type::Enum;
            std::set<std::string> vals;
            for (const auto& v : f.enum_values) {
                if (!vals.insert(v.text).second) {
                    diags.error("E0213", v.span, "duplicate enum value `" + v.text + "`");
                    continue;
                }
                fd.enum_values.push_back(v.text);
            }
        } else {
            fd.type = scalar_type(f.type.text);
            if (fd.type == ir::Type::Missing) {
                auto& d = diags.error("E0210", f.type.span, "unknown type `" + f.type.text + "`");
                suggest(d, f.type.text, kTypeNames);
                continue;
            }
        }
        auto slot = static_cast<uint16_t>(et.fields.size());
        const ast::Field** role = f.modifier == "key"    ? &key
                                  : f.modifier == "time" ? &time
                                  : f.modifier == "id"   ? &id
                                                         : nullptr;
        if (role) {
            if (*role) {
                const char* code = f.modifier == "key" ? "E0205" : f.modifier == "time" ? "E0207" : "E0212";
                auto& d =
                    diags.error(code, f.modifier_span,
                                "event `" + e.name.text + "` has more than one `" + f.modifier + "` field");
                d.notes.push_back({"the first one is here", (*role)->modifier_span});
            } else {
                *role = &f;
                if (f.modifier == "key") {
                    if ((fd.type != ir::Type::String && fd.type != ir::Type::Int) || f.optional)
                        diags.error("E0208", f.type.span,
                                    "key field `" + f.name.text +
                                        "` must be `string` or "
                                        "`int` and not optional, found `" +
                                        f.type.text + (f.optional ? "?" : "") + "`");
                    et.key_field = slot;
                } else if (f.modifier == "time") {
                    if (fd.type != ir::Type::Timestamp || f.optional)
                        diags.error("E0209", f.type.span,
                                    "time field `" + f.name.text +
                                        "` must be a `timestamp` "
                                        "(not optional), found `" +
                                        f.type.text + (f.optional ? "?" : "") + "`");
                    et.time_field = slot;
                } else {
                    if (fd.type != ir::Type::String && fd.type != ir::Type::Int)
                        diags.error("E0212", f.type.span,
                                    "id field `" + f.name.text + "` must be `string` or `int`, found `" +
                                        f.type.text + "`");
                    et.id_field = slot;
                }
            }
        }
        et.fields.push_back(std::move(fd));
    }
    if (!key) diags.error("E0204", e.name.span, "event `" + e.name.text + "` has no `key` field");
    if (!time) diags.error("E0206", e.name.span, "event `" + e.name.text + "` has no `time` field");
    event_index.emplace(et.name, static_cast<uint16_t>(rs.events.size()));
    event_spans.push_back(e.name.span);
    rs.events.push_back(std::move(et));
}

namespace {

void add_nodes(Sema& s, const std::vector<ast::TaxNode>& nodes, const std::string& prefix, int32_t parent) {
    for (const auto& n : nodes) {
        std::string path = prefix.empty() ? n.name.text : prefix + "." + n.name.text;
        int32_t idx = s.rs.find_taxonomy(path);
        if (idx >= 0) {
            auto& d = s.diags.error("E0301", n.name.span, "duplicate taxonomy node `" + path + "`");
            d.notes.push_back({"previously declared here", s.taxonomy_spans[path]});
        } else {
            idx = static_cast<int32_t>(s.rs.taxonomy.size());
            s.rs.taxonomy.push_back({path, parent});
            s.taxonomy_spans.emplace(path, n.name.span);
        }
        add_nodes(s, n.children, path, idx);
    }
}

} // namespace

void Sema::declare_taxonomy(const ast::TaxonomyDecl& t) {
    std::string base;
    for (const auto& b : t.base) base += (base.empty() ? "" : ".") + b.text;
    int32_t parent = -1;
    if (!base.empty()) {
        parent = rs.find_taxonomy(base);
        if (parent < 0) {
            auto& d = diags.error("E0302", t.base_span, "unknown taxonomy node `" + base + "`");
            suggest(d, base, taxonomy_paths());
            return;
        }
    }
    add_nodes(*this, t.nodes, base, parent);
}

void Sema::declare_session(const ast::SessionDecl& s) {
    if (session_index.count(s.name.text)) {
        diags.error("E0312", s.name.span, "duplicate session `" + s.name.text + "`");
        return;
    }
    ir::Session out;
    out.name = s.name.text;
    if (s.gaps.empty()) diags.error("E0313", s.name.span, "session `" + s.name.text + "` has no `gap`");
    if (s.gaps.size() > 1)
        diags.error("E0314", s.gaps[1].span, "session `" + s.name.text + "` has two `gap`s");
    if (s.maxes.size() > 1)
        diags.error("E0314", s.maxes[1].span, "session `" + s.name.text + "` has two `max`s");
    if (!s.gaps.empty()) out.gap_us = duration(s.gaps[0], "session gap");
    if (!s.maxes.empty()) {
        out.max_us = duration(s.maxes[0], "session maximum length");
        if (out.max_us > 0 && out.gap_us > 0 && out.max_us < out.gap_us)
            diags.error("E0609", s.maxes[0].span, "session maximum length is shorter than its gap");
    }
    for (const auto& t : s.events) {
        int idx = find_event(t);
        if (idx >= 0) out.types.push_back(static_cast<uint16_t>(idx));
    }
    for (const auto& e : s.ends) {
        int idx = find_event(e.type);
        if (idx < 0) continue;
        ir::SessionEnd end;
        end.type = static_cast<uint16_t>(idx);
        if (e.pred) {
            ExprCtx ctx;
            ctx.kind = CtxKind::SessionEnd;
            ctx.has_current = true;
            ctx.current_types = {end.type};
            ctx.current_name = e.type.text;
            ctx.bare_fields = true;
            end.pred = lower_bool(*e.pred, ctx, "session end condition").id;
        }
        out.ends.push_back(end);
    }
    session_index.emplace(out.name, static_cast<uint32_t>(rs.sessions.size()));
    rs.sessions.push_back(std::move(out));
}

void Sema::check_session_member(const ir::Session& s, const ast::Ident& type, int idx) {
    const auto t = static_cast<uint16_t>(idx);
    if (s.types.empty()) return; // no `events` list: every type is a member
    for (uint16_t m : s.types)
        if (m == t) return;
    // An `end on` event joins the session even when `events` does not list its type.
    for (const ir::SessionEnd& e : s.ends)
        if (e.type == t) return;
    auto& d = diags.error("E0613", type.span,
                          "`on " + type.text + "`: `" + type.text + "` is not a member of session `" +
                              s.name + "`, so it never joins the scope this rule is evaluated over");
    std::string members;
    for (uint16_t m : s.types) members += (members.empty() ? "`" : ", `") + rs.events[m].name + "`";
    std::string ends;
    for (const ir::SessionEnd& e : s.ends)
        ends += (ends.empty() ? "`" : ", `") + rs.events[e.type].name + "`";
    d.notes.push_back({"session `" + s.name + "` takes in " + members +
                           (ends.empty() ? std::string() : " and its `end on` types " + ends) + "; add `" +
                           type.text + "` to its `events`, or choose another scope",
                       std::nullopt});
}

void Sema::declare_group(const ast::ExclusiveDecl& g, std::vector<ast::Span>& group_spans) {
    for (size_t i = 0; i < rs.groups.size(); ++i) {
        if (rs.groups[i].name == g.name.text) {
            auto& d = diags.error("E0701", g.name.span, "duplicate exclusive group `" + g.name.text + "`");
            d.notes.push_back({"previously declared here", group_spans[i]});
            return;
        }
    }
    auto gi = static_cast<int32_t>(rs.groups.size());
    ir::Group out;
    out.name = g.name.text;
    auto add_member = [&](uint32_t r, int64_t prio, const ast::Span& at) {
        ir::Rule& rule = rs.rules[r];
        if (rule.group == gi) return; // listed twice (e.g. by name and by label): the first entry wins
        if (rule.group >= 0) {
            diags.error("E0702", at,
                        "rule `" + rule.name + "` is already in exclusive group `" +
                            rs.groups[static_cast<size_t>(rule.group)].name + "`");
            return;
        }
        rule.group = gi;
        rule.priority = static_cast<int32_t>(prio);
        out.rules.push_back(r);
    };
    for (const auto& m : g.members) {
        if (m.is_label) {
            int node = rs.find_taxonomy(m.name.text);
            if (node < 0) {
                auto& d = diags.error("E0302", m.name.span, "unknown taxonomy node `" + m.name.text + "`");
                suggest(d, m.name.text, taxonomy_paths());
                continue;
            }
            bool any = false;
            for (uint32_t r = 0; r < rs.rules.size(); ++r) {
                if (!rs.in_subtree(rs.rules[r].label, static_cast<uint32_t>(node))) continue;
                any = true;
                add_member(r, m.priority, m.name.span);
            }
            if (!any) diags.warning("W0701", m.name.span, "no rule is labelled in `" + m.name.text + "`");
        } else {
            auto it = rule_index.find(m.name.text);
            if (it == rule_index.end()) {
                auto& d = diags.error("E0602", m.name.span, "unknown rule `" + m.name.text + "`");
                std::vector<std::string> names;
                for (const auto& r : rs.rules) names.push_back(r.name);
                suggest(d, m.name.text, names);
                continue;
            }
            add_member(it->second, m.priority, m.name.span);
        }
    }
    group_spans.push_back(g.name.span);
    rs.groups.push_back(std::move(out));
}

} // namespace ethogram::sema
