// runner.cpp: test cases: events from YAML to JSON lines, replay, expectations, jitter, coverage.
#include "tools/ruletest/runner.h"

#include "tools/ruletest/case_events.h"

#include "compiler/driver/compile.h"
#include "runtime/config.h"
#include "runtime/json_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace ethogram::ruletest {

namespace fs = std::filesystem;

std::string format_offset(int64_t us) {
    std::string out = us < 0 ? "-" : "+";
    uint64_t v = us < 0 ? static_cast<uint64_t>(-(us + 1)) + 1 : static_cast<uint64_t>(us);
    if (v == 0) return "+0s";
    const uint64_t units[] = {86400000000ULL, 3600000000ULL, 60000000ULL, 1000000ULL, 1000ULL, 1ULL};
    const char* names[] = {"d", "h", "m", "s", "ms", "us"};
    for (size_t i = 0; i < 6; ++i) {
        if (v >= units[i]) {
            out += std::to_string(v / units[i]) + names[i];
            v %= units[i];
        }
    }
    return out;
}

std::vector<std::string> find_test_files(const std::string& path, std::string& error) {
    std::vector<std::string> out;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return {path};
    if (!fs::is_directory(path, ec)) {
        error = fmt::format("etho: {}: no such file or directory", path);
        return {};
    }
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const std::string name = it->path().filename().string();
        auto ends = [&](std::string_view s) { return name.size() > s.size() && name.ends_with(s); };
        if (ends(".test.yaml") || ends(".test.yml")) out.push_back(it->path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

std::string describe(const Expectation& x) {
    std::string out = !x.rule.empty() ? x.rule : "behaviour " + x.behaviour;
    if (!x.rule.empty() && !x.behaviour.empty()) out += " (" + x.behaviour + ")";
    if (x.key) out += " key=" + *x.key;
    if (x.time) {
        auto t = [&](const TimeSpec& s) {
            return s.absolute ? runtime::format_rfc3339(s.us) : format_offset(s.us);
        };
        out += x.time_to ? fmt::format(" time=[{}, {}]", t(*x.time), t(*x.time_to))
                         : fmt::format(" time={}", t(*x.time));
    }
    if (x.trigger) out += " trigger=" + *x.trigger;
    if (!x.fields.empty()) {
        out += " fields={";
        for (size_t i = 0; i < x.fields.size(); ++i)
            out += fmt::format("{}{}: {}", i ? ", " : "", x.fields[i].first,
                               is_null(x.fields[i].second) ? "null" : x.fields[i].second.Scalar());
        out += "}";
    }
    if (!x.event_counts.empty()) {
        out += " events={";
        for (size_t i = 0; i < x.event_counts.size(); ++i)
            out += fmt::format("{}{}: {}", i ? ", " : "", x.event_counts[i].first, x.event_counts[i].second);
        out += "}";
    }
    if (x.suppressed) out += " suppressed";
    return out;
}

bool value_matches(const JsonScalar& a, const YAML::Node& e, int64_t start) {
    if (is_null(e)) return a.kind == JsonScalar::Null;
    const std::string s = e.Scalar();
    switch (a.kind) {
    case JsonScalar::Null: return false;
    case JsonScalar::Bool: return s == (a.b ? "true" : "false");
    case JsonScalar::Number:
        // `~42.92`: equal to the precision written (here within 0.005).
        if (s.size() > 1 && s[0] == '~' && is_number(s.substr(1))) {
            const std::string v = s.substr(1);
            const size_t dot = v.find('.');
            const int decimals = dot == std::string::npos ? 0 : static_cast<int>(v.size() - dot - 1);
            return std::fabs(a.num - std::strtod(v.c_str(), nullptr)) <=
                   0.5 * std::pow(10.0, -decimals) + 1e-12;
        }
        if (is_number(s)) {
            const double x = std::strtod(s.c_str(), nullptr);
            return std::fabs(a.num - x) <= 1e-9 * std::max(1.0, std::fabs(x));
        }
        if (auto d = parse_compound_duration(s))
            return std::fabs(a.num - static_cast<double>(*d) / 1000.0) < 1e-9;
        return false;
    case JsonScalar::String:
        if (a.str == s) return true;
        if (auto at = runtime::parse_rfc3339(a.str)) {
            if (auto d = parse_compound_duration(s)) return *at == start + *d;
            if (auto et = runtime::parse_rfc3339(s)) return *at == *et;
        }
        return false;
    case JsonScalar::Other: return a.text == s;
    }
    return false;
}

const JsonScalar* field_of(const ReplayDetection& d, const std::string& name) {
    for (const auto& [n, v] : d.fields)
        if (n == name) return &v;
    return nullptr;
}

// What the case's expectations need to know about the rule set, resolved once per case.
struct Resolved {
    int32_t rule = -1;      ///< rule index, -1 = any
    int32_t behaviour = -1; ///< taxonomy node, -1 = any
};

// For an expectation nothing matched: what differs in the nearest detection of the same rule (and key),
// so that a wrong value is named instead of leaving the reader to compare JSON by eye.
std::string closest(const Expectation& x, const Resolved& r, const CaseResult& c) {
    for (const ReplayDetection& d : c.actual) {
        if (r.rule >= 0 && d.rule != static_cast<uint32_t>(r.rule)) continue;
        if (x.key && d.key != *x.key) continue;
        std::vector<std::string> diffs;
        if (d.suppressed != x.suppressed)
            diffs.push_back(d.suppressed ? "it was suppressed" : "it was not suppressed");
        if (x.time) {
            const int64_t from = resolve_time(*x.time, c.start, c.start);
            const int64_t to = x.time_to ? resolve_time(*x.time_to, c.start, c.start) : from;
            if (d.time < from || d.time > to)
                diffs.push_back(fmt::format("time is {}", format_offset(d.time - c.start)));
        }
        if (x.trigger && d.trigger != *x.trigger) diffs.push_back(fmt::format("trigger is {}", d.trigger));
        for (const auto& [name, v] : x.fields) {
            const JsonScalar* a = field_of(d, name);
            if (!a)
                diffs.push_back(fmt::format("no field {}", name));
            else if (!value_matches(*a, v, c.start))
                diffs.push_back(
                    fmt::format("{} is {} (expected {})", name, a->text, is_null(v) ? "null" : v.Scalar()));
        }
        for (const auto& [alias, n] : x.event_counts) {
            size_t have = 0;
            for (const auto& [al, lines] : d.events)
                if (al == alias) have = lines.size();
            if (have != n) diffs.push_back(fmt::format("{} bound {} event(s)", alias, have));
        }
        if (diffs.empty()) continue;
        std::string s = fmt::format("\n  closest: {} key={} at {}: ", d.rule_name, d.key,
                                    format_offset(d.time - c.start));
        for (size_t i = 0; i < diffs.size(); ++i) {
            s += i ? ", " : "";
            s += diffs[i];
        }
        return s;
    }
    return "";
}

} // namespace

CompiledRules& Runner::compile(const std::vector<std::string>& paths) {
    std::string key;
    for (const auto& p : paths) key += p + '\n';
    auto& slot = cache_[key];
    if (slot) return *slot;
    slot = std::make_unique<CompiledRules>();
    slot->paths = paths;
    compiler::Diagnostics diags;
    compiler::CompileResult res = compiler::compile_paths(paths, diags);
    if (res.ruleset && diags.error_count() == 0) {
        slot->rs = std::move(res.ruleset);
        slot->coverage = interp::Coverage(*slot->rs);
    } else {
        slot->diagnostics = diags.render();
    }
    order_.push_back(slot.get());
    return *slot;
}

std::vector<const CompiledRules*> Runner::rule_sets() const {
    return order_;
}

FileResult Runner::run_file(const std::string& path) {
    FileResult fr;
    fr.path = path;
    TestFile tf;
    if (!load_test_file(path, tf, fr.error)) return fr;
    std::error_code ec;
    for (size_t i = 0; i < tf.rules.size(); ++i)
        if (!fs::exists(tf.rules[i], ec)) {
            fr.error =
                located(path, tf.rules_pos,
                        fmt::format("rules: '{}' does not exist (looked for {}; rule paths are relative "
                                    "to the test file)",
                                    tf.rules_raw[i], tf.rules[i]));
            return fr;
        }
    CompiledRules& cr = compile(tf.rules);
    if (!cr.rs) {
        fr.error = located(path, tf.rules_pos, "the rules do not compile:\n" + cr.diagnostics);
        return fr;
    }
    ReplayOptions ro;
    if (!tf.config.empty()) {
        auto cfg = runtime::load_config(tf.config);
        if (!cfg) {
            fr.error = located(path, tf.config_pos, cfg.error());
            return fr;
        }
        ro.allowed_lateness_us = cfg->allowed_lateness_us;
        ro.epoch_unit = cfg->epoch_unit;
        ro.type_field = cfg->type_field;
        ro.exec.max_partial_matches = cfg->max_partial_matches;
        ro.exec.max_scope_events = cfg->max_scope_events;
        ro.max_events_per_alias = cfg->max_events_per_alias;
    }
    if (tf.lateness_us) ro.allowed_lateness_us = *tf.lateness_us;
    for (const TestCase& tc : tf.cases) {
        CaseResult r;
        run_case(tf, tc, cr, ro, r);
        fr.cases.push_back(std::move(r));
    }
    return fr;
}

void Runner::run_case(const TestFile& tf, const TestCase& tc, CompiledRules& cr, const ReplayOptions& base,
                      CaseResult& out) {
    const ir::RuleSet& rs = *cr.rs;
    out.name = tc.name;
    out.pos = tc.pos;
    out.stable = tc.stable;
    out.start = tc.start ? tc.start->us : tf.start_us;
    auto error = [&](Pos p, const std::string& msg) {
        out.status = CaseResult::Error;
        out.failures.push_back(located(tf.path, p, msg));
    };
    auto rule_list = [&] {
        std::string s;
        for (const auto& r : rs.rules) {
            s += s.empty() ? "" : ", ";
            s += r.name;
        }
        return s;
    };
    auto find_rule = [&](const std::string& name) -> int32_t {
        for (size_t i = 0; i < rs.rules.size(); ++i)
            if (rs.rules[i].name == name) return static_cast<int32_t>(i);
        return -1;
    };

    // Expectations: every name must exist, so that a typo cannot make a test pass.
    std::vector<Resolved> res(tc.expect.size());
    for (size_t i = 0; i < tc.expect.size(); ++i) {
        const Expectation& x = tc.expect[i];
        if (!x.rule.empty()) {
            res[i].rule = find_rule(x.rule);
            if (res[i].rule < 0) {
                error(x.pos, fmt::format("unknown rule '{}' (rules: {})", x.rule, rule_list()));
                continue;
            }
            const ir::Rule& rule = rs.rules[static_cast<size_t>(res[i].rule)];
            for (const auto& [name, v] : x.fields) {
                bool found = false;
                for (const auto& em : rule.emits) found = found || em.name == name;
                if (!found) {
                    std::string emits;
                    for (const auto& em : rule.emits) {
                        emits += emits.empty() ? "" : ", ";
                        emits += em.name;
                    }
                    error(pos_of(v), fmt::format("rule '{}' emits no field '{}' (it emits: {})", rule.name,
                                                 name, emits.empty() ? "nothing" : emits));
                }
            }
        }
        if (!x.behaviour.empty()) {
            res[i].behaviour = rs.find_taxonomy(x.behaviour);
            if (res[i].behaviour < 0)
                error(x.pos, fmt::format("unknown behaviour '{}' (not in the taxonomy)", x.behaviour));
        }
    }
    std::vector<std::pair<int32_t, int32_t>> forbidden; // (rule, node)
    for (const Forbidden& f : tc.expect_none) {
        int32_t r = find_rule(f.name), n = r < 0 ? rs.find_taxonomy(f.name) : -1;
        if (r < 0 && n < 0)
            error(f.pos, fmt::format("expect_none: '{}' is neither a rule nor a behaviour (rules: {})",
                                     f.name, rule_list()));
        forbidden.emplace_back(r, n);
    }

    // Events: inline ones become the JSON lines a producer would send; a file is read as it is.
    const std::vector<std::string> lines = case_event_lines(tf, tc, rs, base.type_field, out.start, error);
    if (out.status == CaseResult::Error) return;

    ReplayOptions ro = base;
    ro.coverage = opts_.coverage ? &cr.coverage : nullptr;
    ReplayResult rr = replay(rs, lines, ro);
    ++cr.cases;
    out.actual = std::move(rr.detections);
    out.dead = std::move(rr.dead);

    auto fail = [&](std::string msg) {
        out.status = CaseResult::Fail;
        out.failures.push_back(std::move(msg));
    };
    // Dead letters: inline events are meant to be valid unless the case says otherwise.
    const bool inline_events = tc.events_file.empty();
    if (tc.dead_letters ? out.dead.size() != *tc.dead_letters : (inline_events && !out.dead.empty())) {
        std::string msg = fmt::format("{} event(s) were dead-lettered, expected {}", out.dead.size(),
                                      tc.dead_letters ? *tc.dead_letters : 0);
        for (const DeadLine& d : out.dead)
            msg += fmt::format("\n  event {}: {}: {}", d.line, d.reason, d.detail);
        fail(msg);
    }

    auto matches = [&](const Expectation& x, const Resolved& r, const ReplayDetection& d) {
        if (d.suppressed != x.suppressed) return false;
        if (r.rule >= 0 && d.rule != static_cast<uint32_t>(r.rule)) return false;
        if (r.behaviour >= 0 && !rs.in_subtree(rs.rules[d.rule].label, static_cast<uint32_t>(r.behaviour)))
            return false;
        if (x.key && d.key != *x.key) return false;
        if (x.time) {
            const int64_t from = resolve_time(*x.time, out.start, out.start);
            const int64_t to = x.time_to ? resolve_time(*x.time_to, out.start, out.start) : from;
            if (d.time < from || d.time > to) return false;
        }
        if (x.trigger && d.trigger != *x.trigger) return false;
        for (const auto& [name, v] : x.fields) {
            const JsonScalar* a = field_of(d, name);
            if (!a || !value_matches(*a, v, out.start)) return false;
        }
        for (const auto& [alias, n] : x.event_counts) {
            bool found = false;
            for (const auto& [al, lines] : d.events)
                if (al == alias) found = lines.size() == n;
            if (!found) return false;
        }
        return true;
    };
    std::vector<bool> claimed(out.actual.size(), false);
    for (size_t i = 0; i < tc.expect.size(); ++i) {
        const Expectation& x = tc.expect[i];
        int64_t n = 0;
        for (size_t j = 0; j < out.actual.size(); ++j)
            if (matches(x, res[i], out.actual[j])) {
                ++n;
                claimed[j] = true;
            }
        const bool ok = x.count < 0 ? n > 0 : n == x.count;
        if (ok) continue;
        const std::string want = x.count < 0 ? "at least 1" : std::to_string(x.count);
        std::string msg = fmt::format("line {}: expected {} detection(s) of {}; found {}", x.pos.line, want,
                                      describe(x), n);
        if (n == 0) msg += closest(x, res[i], out);
        fail(msg);
    }
    for (size_t k = 0; k < tc.expect_none.size(); ++k) {
        const auto [r, node] = forbidden[k];
        for (const ReplayDetection& d : out.actual) {
            if (d.suppressed) continue;
            const bool hit = r >= 0 ? d.rule == static_cast<uint32_t>(r)
                                    : rs.in_subtree(rs.rules[d.rule].label, static_cast<uint32_t>(node));
            if (hit)
                fail(fmt::format("line {}: expected no detection of {}; {} fired at {} (key {})",
                                 tc.expect_none[k].pos.line, tc.expect_none[k].name, d.rule_name,
                                 format_offset(d.time - out.start), d.key));
        }
    }
    if (tc.no_other.value_or(tf.no_other))
        for (size_t j = 0; j < out.actual.size(); ++j)
            if (!claimed[j] && !out.actual[j].suppressed)
                fail(fmt::format("unexpected detection: {} key={} at {} (no_other_detections)",
                                 out.actual[j].rule_name, out.actual[j].key,
                                 format_offset(out.actual[j].time - out.start)));

    // Stability: rerun with perturbed times and compare detection identities with the unperturbed run.
    if (opts_.jitter_us > 0) check_stability(tc, rs, lines, base, out);
}

void Runner::check_stability(const TestCase& tc, const ir::RuleSet& rs, const std::vector<std::string>& lines,
                             const ReplayOptions& base, CaseResult& out) const {
    std::map<std::string, size_t> baseline;
    for (size_t j = 0; j < out.actual.size(); ++j)
        if (!out.actual[j].suppressed) baseline.emplace(detection_identity(out.actual[j]), j);
    std::map<std::string, Flip> flips;
    for (uint32_t run = 0; run < opts_.jitter_runs; ++run) {
        ReplayOptions jo = base;
        jo.explain = false;
        jo.jitter_us = opts_.jitter_us;
        jo.jitter_seed = opts_.seed * 1000003ULL + run;
        ReplayResult jr = replay(rs, lines, jo);
        std::set<std::string> now;
        for (const ReplayDetection& d : jr.detections) {
            if (d.suppressed) continue;
            std::string id = detection_identity(d);
            now.insert(id);
            if (!baseline.count(id)) {
                Flip& f = flips[id];
                f.lost = false;
                ++f.runs;
                if (f.json.empty()) f.json = d.json;
            }
        }
        for (const auto& [id, j] : baseline)
            if (!now.count(id)) {
                Flip& f = flips[id];
                f.lost = true;
                ++f.runs;
                f.json = out.actual[j].json;
            }
    }
    for (auto& [id, f] : flips) out.flips.push_back(std::move(f));
    if (!out.flips.empty() && tc.stable) {
        out.status = CaseResult::Fail;
        out.failures.push_back(fmt::format("{} detection(s) flip when event times move by up to {} (mark the "
                                           "case 'stable: false' if it tests a boundary on purpose)",
                                           out.flips.size(), runtime::format_duration(opts_.jitter_us)));
    }
}

} // namespace ethogram::ruletest
