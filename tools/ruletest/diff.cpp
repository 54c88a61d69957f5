// diff.cpp: structural and replay diffs of two rule-set versions.
#include "tools/ruletest/diff.h"

#include "compiler/driver/compile.h"
#include "runtime/json_writer.h"
#include "runtime/time.h"
#include "tools/ruletest/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ethogram::ruletest {

namespace {

// The source text of a rule: from its `rule` keyword to the matching closing brace.
std::string rule_source(const ir::Rule& r) {
    std::ifstream in(r.loc.file, std::ios::binary);
    if (!in) return "";
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    size_t pos = 0;
    for (uint32_t line = 1; line < r.loc.line && pos != std::string::npos; ++line) {
        pos = text.find('\n', pos);
        if (pos != std::string::npos) ++pos;
    }
    if (pos == std::string::npos) return "";
    pos += r.loc.col > 0 ? r.loc.col - 1 : 0;
    int depth = 0;
    bool opened = false;
    for (size_t i = pos; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            for (++i; i < text.size() && text[i] != '"'; ++i)
                if (text[i] == '\\') ++i;
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
            i = text.find('\n', i);
            if (i == std::string::npos) break;
        } else if (c == '{') {
            ++depth;
            opened = true;
        } else if (c == '}' && --depth == 0 && opened) {
            return text.substr(pos, i + 1 - pos);
        }
    }
    return text.substr(pos);
}

// The canonical text of a rule, without comment lines: two versions that differ only in layout or
// comments compare equal.
std::vector<std::string> canonical_lines(const ir::Rule& r) {
    std::string src = rule_source(r);
    compiler::Diagnostics diags;
    if (auto f = compiler::format_source(r.loc.file, src, diags)) src = *f;
    std::vector<std::string> out;
    for (std::string& l : split_lines(src)) {
        const size_t b = l.find_first_not_of(" \t");
        if (b == std::string::npos || l.compare(b, 2, "//") == 0) continue;
        out.push_back(l);
    }
    return out;
}

// Changed lines of two texts (longest common subsequence), as "- old" / "+ new".
std::vector<std::string> line_diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<uint32_t>> l(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            l[i][j] = a[i] == b[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
    std::vector<std::string> out;
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) {
            ++i, ++j;
        } else if (i < n && (j == m || l[i + 1][j] >= l[i][j + 1])) {
            out.push_back("- " + a[i++]);
        } else {
            out.push_back("+ " + b[j++]);
        }
    }
    return out;
}

std::string types_text(const ir::RuleSet& rs, const std::vector<uint16_t>& ts) {
    if (ts.empty()) return "any";
    std::string s;
    for (uint16_t t : ts) {
        s += s.empty() ? "" : " | ";
        s += rs.events[t].name;
    }
    return s;
}

std::string scope_text(const ir::RuleSet& rs, const ir::Threshold& th) {
    switch (th.scope) {
    case ir::ScopeKind::Window: return fmt::format("over last {}", runtime::format_duration(th.window_us));
    case ir::ScopeKind::LastN: return fmt::format("over last {} events", th.last_n);
    case ir::ScopeKind::Session:
        return "over session " + (th.session < rs.sessions.size() ? rs.sessions[th.session].name : "?");
    }
    return "?";
}

std::string quant(const ir::Step& s) {
    if (s.min == 1 && s.max == 1) return "";
    if (s.max == ir::kUnbounded) return fmt::format("{{{},}}", s.min);
    return s.min == s.max ? fmt::format("{{{}}}", s.min) : fmt::format("{{{},{}}}", s.min, s.max);
}

std::string within_text(int64_t us) {
    return us < 0 ? "none" : runtime::format_duration(us);
}

// What changed between two versions of one rule, in the rule language's terms.
std::vector<std::string> rule_changes(const ir::RuleSet& a, const ir::Rule& x, const ir::RuleSet& b,
                                      const ir::Rule& y) {
    std::vector<std::string> out;
    auto cmp = [&](const std::string& what, const std::string& u, const std::string& v) {
        if (u != v) out.push_back(fmt::format("{}: {} -> {}", what, u, v));
    };
    auto label = [](const ir::RuleSet& rs, const ir::Rule& r) {
        return r.label < rs.taxonomy.size() ? rs.taxonomy[r.label].path : "?";
    };
    cmp("label", label(a, x), label(b, y));
    cmp("severity", std::string(ir::severity_name(x.severity)), std::string(ir::severity_name(y.severity)));
    auto conf = [](const ir::RuleSet& rs, const ir::Rule& r) {
        return r.confidence == ir::kNoExpr ? std::string("1.0") : expr_text(rs, r, r.confidence);
    };
    cmp("confidence", conf(a, x), conf(b, y));
    if (x.kind != y.kind) {
        out.push_back(x.kind == ir::RuleKind::Threshold ? "kind: threshold -> pattern"
                                                        : "kind: pattern -> threshold");
    } else if (x.kind == ir::RuleKind::Threshold) {
        const ir::Threshold &p = x.threshold, &q = y.threshold;
        cmp("scope", scope_text(a, p), scope_text(b, q));
        cmp("on", p.at_session_end ? "session end" : types_text(a, p.on_types),
            q.at_session_end ? "session end" : types_text(b, q.on_types));
        // Conditions compared branch by branch (top-level and/or) so that a changed threshold shows alone.
        auto branches = [](const ir::RuleSet& rs, const ir::Rule& r, ir::Op& op) {
            std::vector<std::string> out;
            std::vector<ir::ExprId> todo{r.threshold.cond};
            op = ir::Op::None;
            if (r.threshold.cond < rs.exprs.size()) {
                const ir::Expr& e = rs.exprs[r.threshold.cond];
                if (e.kind == ir::ExprKind::Binary && (e.op == ir::Op::And || e.op == ir::Op::Or)) op = e.op;
            }
            std::vector<ir::ExprId> flat;
            while (!todo.empty()) {
                ir::ExprId id = todo.back();
                todo.pop_back();
                if (op != ir::Op::None && id < rs.exprs.size() && rs.exprs[id].kind == ir::ExprKind::Binary &&
                    rs.exprs[id].op == op) {
                    todo.push_back(rs.exprs[id].b);
                    todo.push_back(rs.exprs[id].a);
                } else {
                    flat.push_back(id);
                }
            }
            for (ir::ExprId id : flat) out.push_back(expr_text(rs, r, id));
            return out;
        };
        ir::Op op1, op2;
        auto c1 = branches(a, x, op1), c2 = branches(b, y, op2);
        if (op1 == op2 && c1.size() == c2.size() && c1.size() > 1) {
            for (size_t i = 0; i < c1.size(); ++i)
                cmp(fmt::format("condition branch {}", i + 1), "`" + c1[i] + "`", "`" + c2[i] + "`");
        } else {
            cmp("condition", fmt::format("`{}`", expr_text(a, x, x.threshold.cond)),
                fmt::format("`{}`", expr_text(b, y, y.threshold.cond)));
        }
    } else {
        cmp("within", within_text(x.pattern.within_us), within_text(y.pattern.within_us));
        const auto &s1 = x.pattern.steps, &s2 = y.pattern.steps;
        auto step_text = [](const ir::RuleSet& rs, const ir::Step& s) {
            std::string k = s.kind == ir::StepKind::Positive ? "" : "not ";
            std::string t = fmt::format("{}{}{}: {}{}", s.strict ? "=> " : "-> ", k, s.alias,
                                        types_text(rs, s.types), quant(s));
            if (s.pred != ir::kNoExpr) t += " where " + s.pred_text;
            if (s.within_us >= 0) t += fmt::format(" within {}", runtime::format_duration(s.within_us));
            return t;
        };
        for (size_t i = 0; i < std::max(s1.size(), s2.size()); ++i) {
            if (i >= s1.size())
                out.push_back(fmt::format("step {} added: {}", i + 1, step_text(b, s2[i])));
            else if (i >= s2.size())
                out.push_back(fmt::format("step {} removed: {}", i + 1, step_text(a, s1[i])));
            else
                cmp(fmt::format("step {} ({})", i + 1, s2[i].alias), step_text(a, s1[i]),
                    step_text(b, s2[i]));
        }
    }
    std::map<std::string, std::string> e1, e2;
    for (const auto& e : x.emits) e1[e.name] = expr_text(a, x, e.expr);
    for (const auto& e : y.emits) e2[e.name] = expr_text(b, y, e.expr);
    for (const auto& [n, t] : e1) {
        auto it = e2.find(n);
        if (it == e2.end())
            out.push_back("emit " + n + " removed");
        else
            cmp("emit " + n, "`" + t + "`", "`" + it->second + "`");
    }
    for (const auto& [n, t] : e2)
        if (!e1.count(n)) out.push_back("emit " + n + " added: `" + t + "`");
    if (x.keep_all != y.keep_all)
        out.push_back(y.keep_all ? "keep all matches: added" : "keep all matches: removed");
    if (x.priority != y.priority) cmp("priority", std::to_string(x.priority), std::to_string(y.priority));
    return out;
}

const ir::Rule* find(const ir::RuleSet& rs, const std::string& name) {
    for (const auto& r : rs.rules)
        if (r.name == name) return &r;
    return nullptr;
}

// The detection line without what names the version (ruleset, version): equal lines = same detection.
std::string versionless(const std::string& json) {
    size_t p = json.find(",\"ruleset\":");
    return p == std::string::npos ? json : json.substr(0, p);
}

std::string time_key(const ReplayDetection& d) {
    return fmt::format("{}|{}|{}", d.rule_name, d.key, d.time);
}

// The text of a top-level scalar member of a detection line (severity, confidence): up to the next comma.
std::string scalar_member(const std::string& json, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const size_t p = json.find(key);
    if (p == std::string::npos) return "";
    const size_t from = p + key.size();
    return json.substr(from, json.find(',', from) - from);
}

std::string what_changed(const ReplayDetection& a, const ReplayDetection& b) {
    std::vector<std::string> parts;
    if (a.time != b.time)
        parts.push_back("time " + runtime::format_rfc3339(a.time) + " -> " + runtime::format_rfc3339(b.time));
    if (detection_identity(a) != detection_identity(b)) parts.push_back("bound events");
    std::map<std::string, std::string> fa, fb;
    for (const auto& [n, v] : a.fields) fa[n] = v.text;
    for (const auto& [n, v] : b.fields) fb[n] = v.text;
    for (const auto& [n, t] : fa) {
        auto it = fb.find(n);
        if (it == fb.end())
            parts.push_back("field " + n + " removed");
        else if (it->second != t)
            parts.push_back(fmt::format("{}: {} -> {}", n, t, it->second));
    }
    for (const auto& [n, t] : fb)
        if (!fa.count(n)) parts.push_back("field " + n + " added");
    if (a.behaviour != b.behaviour) parts.push_back("behaviour " + a.behaviour + " -> " + b.behaviour);
    for (const char* m : {"severity", "confidence"}) {
        const std::string x = scalar_member(a.json, m), y = scalar_member(b.json, m);
        if (x != y) parts.push_back(fmt::format("{} {} -> {}", m, x, y));
    }
    if (parts.empty()) parts.push_back("other members");
    std::string s;
    for (const auto& p : parts) {
        s += s.empty() ? "" : ", ";
        s += p;
    }
    return s;
}

} // namespace

StructuralDiff structural_diff(const ir::RuleSet& a, const ir::RuleSet& b) {
    StructuralDiff d;
    d.old_name = a.name;
    d.old_version = a.version;
    d.new_name = b.name;
    d.new_version = b.version;
    for (const auto& r : a.rules)
        if (!find(b, r.name)) d.removed.push_back(r.name);
    for (const auto& y : b.rules) {
        const ir::Rule* x = find(a, y.name);
        if (!x) {
            d.added.push_back(y.name);
            continue;
        }
        if (x->hash == y.hash) {
            d.unchanged.push_back(y.name);
            continue;
        }
        RuleChange c;
        c.rule = y.name;
        c.old_hash = x->hash;
        c.new_hash = y.hash;
        const auto l1 = canonical_lines(*x), l2 = canonical_lines(y);
        c.changes = rule_changes(a, *x, b, y);
        if (l1 == l2 && c.changes.empty()) {
            c.cosmetic = true;
        } else {
            c.text_diff = line_diff(l1, l2);
        }
        d.changed.push_back(std::move(c));
    }
    // The schema matters too: a field or event type that disappears changes what the rules can see.
    std::set<std::string> ea, eb;
    for (const auto& e : a.events) {
        ea.insert(e.name);
        for (const auto& f : e.fields)
            ea.insert(e.name + "." + f.name + ": " + std::string(ir::type_name(f.type)));
    }
    for (const auto& e : b.events) {
        eb.insert(e.name);
        for (const auto& f : e.fields)
            eb.insert(e.name + "." + f.name + ": " + std::string(ir::type_name(f.type)));
    }
    for (const auto& n : ea)
        if (!eb.count(n)) d.schema.push_back("- event " + n);
    for (const auto& n : eb)
        if (!ea.count(n)) d.schema.push_back("+ event " + n);
    std::set<std::string> ta, tb;
    for (const auto& t : a.taxonomy) ta.insert(t.path);
    for (const auto& t : b.taxonomy) tb.insert(t.path);
    for (const auto& n : ta)
        if (!tb.count(n)) d.schema.push_back("- taxonomy " + n);
    for (const auto& n : tb)
        if (!ta.count(n)) d.schema.push_back("+ taxonomy " + n);
    return d;
}

ReplayDiff replay_diff(const ReplayResult& o, const ReplayResult& n) {
    ReplayDiff r;
    r.events = std::max(o.processed, n.processed);
    std::map<std::string, RuleReplayDiff> per;
    std::vector<const ReplayDetection*> olds, news;
    for (const auto& d : o.detections)
        if (!d.suppressed) {
            olds.push_back(&d);
            ++per[d.rule_name].old_count;
            ++r.old_total;
        }
    for (const auto& d : n.detections)
        if (!d.suppressed) {
            news.push_back(&d);
            ++per[d.rule_name].new_count;
            ++r.new_total;
        }
    std::vector<bool> used_o(olds.size()), used_n(news.size());
    // Three passes, each pairing what the previous ones left, in input order.
    auto pass = [&](auto key_of, bool exact) {
        std::multimap<std::string, size_t> index;
        for (size_t j = 0; j < news.size(); ++j)
            if (!used_n[j]) index.emplace(key_of(*news[j]), j);
        for (size_t i = 0; i < olds.size(); ++i) {
            if (used_o[i]) continue;
            auto it = index.find(key_of(*olds[i]));
            if (it == index.end()) continue;
            const size_t j = it->second;
            index.erase(it);
            used_o[i] = used_n[j] = true;
            RuleReplayDiff& rd = per[olds[i]->rule_name];
            if (exact && versionless(olds[i]->json) == versionless(news[j]->json)) {
                ++rd.same;
            } else {
                rd.changed.emplace_back(olds[i]->json, news[j]->json);
                rd.changed_what.push_back(what_changed(*olds[i], *news[j]));
            }
        }
    };
    pass([](const ReplayDetection& d) { return fmt::format("{}#{}", time_key(d), detection_identity(d)); },
         true);
    pass([](const ReplayDetection& d) { return time_key(d); }, false);
    pass([](const ReplayDetection& d) { return detection_identity(d); }, false);
    for (size_t i = 0; i < olds.size(); ++i)
        if (!used_o[i]) per[olds[i]->rule_name].removed.push_back(olds[i]->json);
    for (size_t j = 0; j < news.size(); ++j)
        if (!used_n[j]) per[news[j]->rule_name].added.push_back(news[j]->json);
    for (auto& [name, rd] : per) {
        rd.rule = name;
        r.rules.push_back(std::move(rd));
    }
    return r;
}

std::string diff_text(const StructuralDiff& s, const ReplayDiff* r, const std::string& corpus,
                      uint32_t examples) {
    std::string out =
        fmt::format("rules: {} {} -> {} {}\n", s.old_name, s.old_version, s.new_name, s.new_version);
    for (const auto& n : s.added) out += "  added:     " + n + "\n";
    for (const auto& n : s.removed) out += "  removed:   " + n + "\n";
    for (const auto& c : s.changed) {
        out += fmt::format("  changed:   {}{}\n", c.rule, c.cosmetic ? " (comments or layout only)" : "");
        for (const auto& x : c.changes) out += "      " + x + "\n";
        for (const auto& x : c.text_diff) out += "      " + x + "\n";
    }
    out += fmt::format("  unchanged: {} rule(s)\n", s.unchanged.size());
    for (const auto& x : s.schema) out += "  schema:    " + x + "\n";
    if (!r) return out;
    out += fmt::format("detections over {} ({} events): {} -> {}\n", corpus, r->events, r->old_total,
                       r->new_total);
    out += fmt::format("  {:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}\n", "rule", "old", "new", "same",
                       "added", "removed", "changed");
    for (const auto& rd : r->rules)
        out += fmt::format("  {:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}\n", rd.rule, rd.old_count,
                           rd.new_count, rd.same, rd.added.size(), rd.removed.size(), rd.changed.size());
    for (const auto& rd : r->rules) {
        for (size_t i = 0; i < rd.added.size() && i < examples; ++i) out += "  + " + rd.added[i] + "\n";
        for (size_t i = 0; i < rd.removed.size() && i < examples; ++i) out += "  - " + rd.removed[i] + "\n";
        for (size_t i = 0; i < rd.changed.size() && i < examples; ++i)
            out += fmt::format("  ~ {} ({})\n      old {}\n      new {}\n", rd.rule, rd.changed_what[i],
                               rd.changed[i].first, rd.changed[i].second);
    }
    return out;
}

std::string diff_json(const StructuralDiff& s, const ReplayDiff* r, const std::string& corpus,
                      uint32_t examples) {
    using runtime::append_json_string;
    auto list = [](const std::vector<std::string>& v) {
        std::string o = "[";
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) o.push_back(',');
            append_json_string(o, v[i]);
        }
        return o + "]";
    };
    std::string out = "{\"old\":{\"ruleset\":";
    append_json_string(out, s.old_name);
    out += ",\"version\":";
    append_json_string(out, s.old_version);
    out += "},\"new\":{\"ruleset\":";
    append_json_string(out, s.new_name);
    out += ",\"version\":";
    append_json_string(out, s.new_version);
    out += fmt::format("}},\"rules\":{{\"added\":{},\"removed\":{},\"changed\":[", list(s.added),
                       list(s.removed));
    for (size_t i = 0; i < s.changed.size(); ++i) {
        const RuleChange& c = s.changed[i];
        out += i ? ",{\"rule\":" : "{\"rule\":";
        append_json_string(out, c.rule);
        out += ",\"old_hash\":";
        append_json_string(out, c.old_hash);
        out += ",\"new_hash\":";
        append_json_string(out, c.new_hash);
        out += c.cosmetic ? ",\"cosmetic\":true" : ",\"cosmetic\":false";
        out += fmt::format(",\"changes\":{},\"text_diff\":{}}}", list(c.changes), list(c.text_diff));
    }
    out += fmt::format("],\"unchanged\":{},\"schema\":{}}}", list(s.unchanged), list(s.schema));
    if (r) {
        out += ",\"replay\":{\"corpus\":";
        append_json_string(out, corpus);
        out += fmt::format(",\"events\":{},\"old_detections\":{},\"new_detections\":{},\"rules\":[",
                           r->events, r->old_total, r->new_total);
        for (size_t i = 0; i < r->rules.size(); ++i) {
            const RuleReplayDiff& rd = r->rules[i];
            out += i ? ",{\"rule\":" : "{\"rule\":";
            append_json_string(out, rd.rule);
            out += fmt::format(
                ",\"old\":{},\"new\":{},\"same\":{},\"added\":{},\"removed\":{},\"changed\":{}", rd.old_count,
                rd.new_count, rd.same, rd.added.size(), rd.removed.size(), rd.changed.size());
            out += ",\"examples\":{\"added\":[";
            for (size_t k = 0; k < rd.added.size() && k < examples; ++k) {
                out += k ? "," : "";
                out += rd.added[k];
            }
            out += "],\"removed\":[";
            for (size_t k = 0; k < rd.removed.size() && k < examples; ++k) {
                out += k ? "," : "";
                out += rd.removed[k];
            }
            out += "],\"changed\":[";
            for (size_t k = 0; k < rd.changed.size() && k < examples; ++k) {
                out += k ? ",{\"what\":" : "{\"what\":";
                append_json_string(out, rd.changed_what[k]);
                out += ",\"old\":" + rd.changed[k].first + ",\"new\":" + rd.changed[k].second + "}";
            }
            out += "]}}";
        }
        out += "]}";
    }
    return out + "}\n";
}

} // namespace ethogram::ruletest
