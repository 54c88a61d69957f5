// spec.cpp: loading rule test files (yaml-cpp; its exceptions stop here) with line:col in every error.
#include "tools/ruletest/spec.h"

#include "runtime/time.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ethogram::ruletest {

namespace fs = std::filesystem;

std::string located(const std::string& file, Pos p, const std::string& msg) {
    if (p.line == 0) return fmt::format("{}: error: {}", file, msg);
    return fmt::format("{}:{}:{}: error: {}", file, p.line, p.col, msg);
}

std::string yaml_error(const std::string& file, const YAML::Exception& e) {
    Pos p;
    if (e.mark.line >= 0)
        p = {static_cast<uint32_t>(e.mark.line + 1), static_cast<uint32_t>(e.mark.column + 1)};
    return located(file, p, fmt::format("not valid YAML: {}", e.msg));
}

Pos pos_of(const YAML::Node& n) {
    if (!n.IsDefined()) return {};
    const YAML::Mark m = n.Mark();
    if (m.line < 0) return {};
    return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

std::optional<int64_t> parse_compound_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    int64_t total = 0;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
        if (j == i || j - i > 12) return std::nullopt;
        size_t k = j;
        while (k < s.size() && ((s[k] >= 'a' && s[k] <= 'z'))) ++k;
        auto part = runtime::parse_duration(s.substr(i, k - i));
        if (!part) return std::nullopt;
        total += *part;
        i = k;
    }
    return total;
}

int64_t resolve_time(const TimeSpec& t, int64_t start, int64_t previous) {
    if (t.absolute) return t.us;
    return (t.after_previous ? previous : start) + t.us;
}

namespace {

// Thrown inside the loader only, caught in load_test_file: a message with its position.
struct SpecError {
    Pos pos;
    std::string msg;
};

[[noreturn]] void fail(const YAML::Node& n, std::string msg) {
    throw SpecError{pos_of(n), std::move(msg)};
}

std::string scalar(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) fail(n, fmt::format("'{}' must be a single value", what));
    return n.Scalar();
}

bool boolean(const YAML::Node& n, const std::string& what) {
    std::string s = scalar(n, what);
    if (s == "true") return true;
    if (s == "false") return false;
    fail(n, fmt::format("'{}' must be true or false, got '{}'", what, s));
}

uint64_t count(const YAML::Node& n, const std::string& what) {
    std::string s = scalar(n, what);
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
        fail(n, fmt::format("'{}' must be a non-negative integer, got '{}'", what, s));
    return std::stoull(s);
}

TimeSpec time_spec(const YAML::Node& n, const std::string& what, bool allow_plus) {
    std::string s = scalar(n, what);
    TimeSpec t;
    if (!s.empty() && s[0] == '+') {
        if (!allow_plus)
            fail(n, fmt::format("'{}': '+' (after the previous event) is only for events", what));
        t.after_previous = true;
        s.erase(0, 1);
    }
    if (auto d = parse_compound_duration(s)) {
        t.us = *d;
        return t;
    }
    if (s == "0") return t;
    if (!t.after_previous) {
        if (auto abs = runtime::parse_rfc3339(s)) {
            t.absolute = true;
            t.us = *abs;
            return t;
        }
    }
    fail(n, fmt::format("'{}' must be a duration from the case start such as 90s or 1m30s, '+10s' (after the "
                        "previous event), or an RFC 3339 time; got '{}'",
                        what, s));
}

std::vector<std::string> names(const YAML::Node& n, const std::string& what) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
        out.push_back(n.Scalar());
    } else if (n.IsSequence()) {
        for (const auto& x : n) out.push_back(scalar(x, what));
    } else {
        fail(n, fmt::format("'{}' must be a name or a list of names", what));
    }
    return out;
}

void check_keys(const YAML::Node& map, const std::string& what,
                std::initializer_list<std::string_view> allowed) {
    if (!map.IsMap()) fail(map, fmt::format("{} must be a mapping", what));
    for (const auto& kv : map) {
        const std::string k = kv.first.as<std::string>();
        bool ok = false;
        for (auto a : allowed) ok = ok || a == k;
        if (ok) continue;
        std::string list;
        for (auto a : allowed) {
            list += list.empty() ? "" : ", ";
            list += std::string(a);
        }
        fail(kv.first, fmt::format("unknown key '{}' in {} (expected one of: {})", k, what, list));
    }
}

class Loader {
public:
    Loader(const std::string& path) : dir_(fs::path(path).parent_path()) {}

    std::string resolve(const std::string& p) const {
        fs::path q(p);
        if (q.is_absolute() || dir_.empty()) return q.lexically_normal().string();
        return (dir_ / q).lexically_normal().string();
    }

    void file(const YAML::Node& root, TestFile& out) {
        if (!root.IsMap()) fail(root, "a test file is a mapping with 'rules' and 'cases'");
        check_keys(root, "the test file",
                   {"rules", "config", "lateness", "start", "defaults", "no_other_detections", "cases"});
        const YAML::Node rules = root["rules"];
        if (!rules)
            fail(root, "missing 'rules': the rule files or folders under test, relative to this file");
        out.rules_pos = pos_of(rules);
        for (const std::string& r : names(rules, "rules")) {
            out.rules_raw.push_back(r);
            out.rules.push_back(resolve(r));
        }
        if (out.rules.empty()) fail(rules, "'rules' names no rule file or folder");
        if (const YAML::Node c = root["config"]) {
            out.config = resolve(scalar(c, "config"));
            out.config_pos = pos_of(c);
        }
        if (const YAML::Node l = root["lateness"]) {
            auto d = parse_compound_duration(scalar(l, "lateness"));
            if (!d) fail(l, fmt::format("'lateness' must be a duration such as 30s, got '{}'", l.Scalar()));
            out.lateness_us = *d;
        }
        out.start_us = *runtime::parse_rfc3339("2026-01-01T00:00:00Z");
        if (const YAML::Node s = root["start"]) {
            auto t = runtime::parse_rfc3339(scalar(s, "start"));
            if (!t) fail(s, fmt::format("'start' must be an RFC 3339 time: {}", t.error()));
            out.start_us = *t;
        }
        if (const YAML::Node d = root["defaults"]) {
            if (!d.IsMap()) fail(d, "'defaults' maps event types to fields: {payment: {currency: EUR}}");
            for (const auto& kv : d)
                if (!kv.second.IsMap()) fail(kv.second, "the defaults of an event type must be a mapping");
            out.defaults = d;
        }
        if (const YAML::Node n = root["no_other_detections"])
            out.no_other = boolean(n, "no_other_detections");
        const YAML::Node cases = root["cases"];
        if (!cases || !cases.IsSequence() || cases.size() == 0)
            fail(cases ? cases : root, "'cases' must be a non-empty list of test cases");
        for (const auto& c : cases) out.cases.push_back(test_case(c));
    }

private:
    TestCase test_case(const YAML::Node& c) {
        check_keys(c, "a test case",
                   {"name", "start", "key", "events", "expect", "expect_none", "no_other_detections",
                    "dead_letters", "stable"});
        TestCase t;
        t.pos = pos_of(c);
        if (!c["name"]) fail(c, "a test case needs a 'name'");
        t.name = scalar(c["name"], "name");
        if (const YAML::Node s = c["start"]) {
            auto abs = runtime::parse_rfc3339(scalar(s, "start"));
            if (!abs) fail(s, fmt::format("'start' must be an RFC 3339 time: {}", abs.error()));
            t.start = TimeSpec{true, false, *abs};
        }
        if (const YAML::Node k = c["key"]) {
            scalar(k, "key");
            t.key = k;
        }
        const YAML::Node ev = c["events"];
        if (!ev)
            fail(c, fmt::format("test case '{}' has no 'events' (a list, or a JSON Lines file)", t.name));
        t.events_pos = pos_of(ev);
        if (ev.IsScalar()) {
            t.events_file = resolve(ev.Scalar());
        } else if (ev.IsSequence()) {
            for (const auto& e : ev)
                if (!e.IsMap()) fail(e, "an event is a mapping: {at: 10s, type: login, ...}");
            t.events = ev;
        } else {
            fail(ev, "'events' must be a list of events or the path of a JSON Lines file");
        }
        if (const YAML::Node x = c["expect"]) {
            if (!x.IsSequence()) fail(x, "'expect' must be a list of expected detections");
            for (const auto& e : x) t.expect.push_back(expectation(e));
        }
        if (const YAML::Node n = c["expect_none"]) {
            if (n.IsScalar()) {
                t.expect_none.push_back({pos_of(n), n.Scalar()});
            } else if (n.IsSequence()) {
                for (const auto& x : n) t.expect_none.push_back({pos_of(x), scalar(x, "expect_none")});
            } else {
                fail(n, "'expect_none' must be a rule or behaviour name, or a list of them");
            }
        }
        if (const YAML::Node n = c["no_other_detections"]) t.no_other = boolean(n, "no_other_detections");
        if (const YAML::Node n = c["dead_letters"]) t.dead_letters = count(n, "dead_letters");
        if (const YAML::Node n = c["stable"]) t.stable = boolean(n, "stable");
        return t;
    }

    Expectation expectation(const YAML::Node& e) {
        check_keys(
            e, "an expected detection",
            {"rule", "behaviour", "key", "time", "trigger", "fields", "events", "count", "suppressed"});
        Expectation x;
        x.pos = pos_of(e);
        if (const YAML::Node r = e["rule"]) x.rule = scalar(r, "rule");
        if (const YAML::Node b = e["behaviour"]) x.behaviour = scalar(b, "behaviour");
        if (x.rule.empty() && x.behaviour.empty())
            fail(e, "an expected detection names a 'rule' or a 'behaviour'");
        if (const YAML::Node k = e["key"]) x.key = scalar(k, "key");
        if (const YAML::Node t = e["time"]) {
            if (t.IsMap()) {
                check_keys(t, "a time range", {"from", "to"});
                if (!t["from"] || !t["to"]) fail(t, "a time range has 'from' and 'to'");
                x.time = time_spec(t["from"], "time.from", false);
                x.time_to = time_spec(t["to"], "time.to", false);
            } else {
                x.time = time_spec(t, "time", false);
            }
        }
        if (const YAML::Node t = e["trigger"]) {
            std::string s = scalar(t, "trigger");
            if (s != "event" && s != "absence" && s != "session_end")
                fail(t, fmt::format("'trigger' must be event, absence or session_end, got '{}'", s));
            x.trigger = s;
        }
        if (const YAML::Node f = e["fields"]) {
            if (!f.IsMap()) fail(f, "'fields' maps emitted field names to values");
            x.fields_pos = pos_of(f);
            for (const auto& kv : f) {
                if (!kv.second.IsScalar() && !kv.second.IsNull())
                    fail(kv.second, "an expected field value must be a single value");
                x.fields.emplace_back(kv.first.as<std::string>(), kv.second);
            }
        }
        if (const YAML::Node ev = e["events"]) {
            if (!ev.IsMap()) fail(ev, "'events' maps aliases to numbers of bound events: {f: 3, s: 1}");
            for (const auto& kv : ev)
                x.event_counts.emplace_back(kv.first.as<std::string>(), count(kv.second, "events"));
        }
        if (const YAML::Node n = e["count"]) x.count = static_cast<int64_t>(count(n, "count"));
        if (const YAML::Node n = e["suppressed"]) x.suppressed = boolean(n, "suppressed");
        return x;
    }

    fs::path dir_;
};

} // namespace

bool load_test_file(const std::string& path, TestFile& out, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format("{}: error: cannot read the test file", path);
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out = TestFile{};
    out.path = path;
    try {
        YAML::Node root = YAML::Load(ss.str());
        Loader(path).file(root, out);
    } catch (const SpecError& e) {
        error = located(path, e.pos, e.msg);
        return false;
    } catch (const YAML::Exception& e) {
        error = yaml_error(path, e);
        return false;
    }
    return true;
}

} // namespace ethogram::ruletest
