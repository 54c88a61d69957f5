// case_events.cpp: a test case's events as the JSON lines an event producer would send.
#include "tools/ruletest/case_events.h"

#include "runtime/json_writer.h"
#include "runtime/time.h"
#include "tools/ruletest/replay.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

namespace ethogram::ruletest {

bool is_number(const std::string& s) {
    if (s.empty()) return false;
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && s.find_first_of("xXnNiI") == std::string::npos;
}

bool is_null(const YAML::Node& n) {
    return !n.IsDefined() || n.IsNull() ||
           (n.IsScalar() && n.Tag() != "!" && (n.Scalar() == "~" || n.Scalar() == "null"));
}

namespace {

bool is_integer(const std::string& s) {
    size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    return i < s.size() && s.find_first_not_of("0123456789", i) == std::string::npos;
}

const ir::FieldDef* find_field(const ir::EventType& et, std::string_view name, uint16_t* slot = nullptr) {
    for (size_t i = 0; i < et.fields.size(); ++i)
        if (et.fields[i].name == name) {
            if (slot) *slot = static_cast<uint16_t>(i);
            return &et.fields[i];
        }
    return nullptr;
}

std::string field_list(const ir::EventType& et) {
    std::string out;
    for (const auto& f : et.fields) {
        out += out.empty() ? "" : ", ";
        out += f.name;
    }
    return out;
}

// One test value as the JSON member an event producer would write for a field of type `t`. A value
// that does not fit is written as a string, so that the decoder rejects it as `etho run` would.
void append_value(std::string& out, const ir::FieldDef& f, const YAML::Node& v, int64_t start) {
    if (is_null(v)) {
        out += "null";
        return;
    }
    const std::string s = v.Scalar();
    const bool quoted = v.Tag() == "!";
    switch (f.type) {
    case ir::Type::Int:
        if (!quoted && is_integer(s)) return void(out += s[0] == '+' ? s.substr(1) : s);
        break;
    case ir::Type::Float:
    case ir::Type::Duration:
        if (!quoted && is_number(s)) return void(out += s[0] == '+' ? s.substr(1) : s);
        break;
    case ir::Type::Bool:
        if (!quoted && (s == "true" || s == "false")) return void(out += s);
        break;
    case ir::Type::Timestamp:
        if (!quoted && is_number(s)) return void(out += s);
        if (auto d = parse_compound_duration(s)) {
            out.push_back('"');
            runtime::append_rfc3339(out, start + *d);
            out.push_back('"');
            return;
        }
        break;
    default: break;
    }
    runtime::append_json_string(out, s);
}

} // namespace

std::vector<std::string> case_event_lines(const TestFile& tf, const TestCase& tc, const ir::RuleSet& rs,
                                          const std::string& type_field, int64_t start,
                                          const std::function<void(Pos, const std::string&)>& error) {
    std::vector<std::string> lines;
    if (!tc.events_file.empty()) {
        std::ifstream in(tc.events_file, std::ios::binary);
        if (!in) {
            error(tc.events_pos, fmt::format("events: cannot read '{}'", tc.events_file));
            return lines;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        lines = split_lines(ss.str());
    } else {
        int64_t previous = start;
        for (const auto& ev : tc.events) {
            const YAML::Node type = ev["type"];
            if (!type || !type.IsScalar()) {
                error(pos_of(ev), "an event needs a 'type'");
                continue;
            }
            const int t = rs.find_event(type.Scalar());
            if (t < 0) {
                std::string known;
                for (const auto& e : rs.events) {
                    known += known.empty() ? "" : ", ";
                    known += e.name;
                }
                error(pos_of(type),
                      fmt::format("unknown event type '{}' (declared: {})", type.Scalar(), known));
                continue;
            }
            const ir::EventType& et = rs.events[static_cast<size_t>(t)];
            const std::string& time_name = et.fields[et.time_field].name;
            const std::string& key_name = et.fields[et.key_field].name;
            // Members in order: the event's own, then the case key, then the type's defaults.
            std::vector<std::pair<std::string, YAML::Node>> members;
            std::set<std::string> seen;
            bool bad = false;
            bool has_time = false;
            for (const auto& kv : ev) {
                std::string name = kv.first.as<std::string>();
                if (name == "type") continue;
                if (name == "at" && !find_field(et, "at")) {
                    if (!kv.second.IsScalar()) {
                        error(pos_of(kv.second), "'at' must be a time");
                        bad = true;
                        break;
                    }
                    std::string s = kv.second.Scalar();
                    TimeSpec ts;
                    bool plus = !s.empty() && s[0] == '+';
                    auto d = parse_compound_duration(plus ? s.substr(1) : s);
                    if (d) {
                        ts = TimeSpec{false, plus, *d};
                    } else if (auto abs = runtime::parse_rfc3339(s); abs && !plus) {
                        ts = TimeSpec{true, false, *abs};
                    } else if (s == "0") {
                    } else {
                        error(pos_of(kv.second),
                              fmt::format("'at' must be a duration from the case start (90s, 1m30s), '+10s' "
                                          "(after the previous event) or an RFC 3339 time; got '{}'",
                                          s));
                        bad = true;
                        break;
                    }
                    previous = resolve_time(ts, start, previous);
                    YAML::Node tn(runtime::format_rfc3339(previous));
                    members.emplace_back(time_name, tn);
                    seen.insert(time_name);
                    has_time = true;
                    continue;
                }
                if (!kv.second.IsScalar() && !kv.second.IsNull()) {
                    error(pos_of(kv.second), fmt::format("field '{}': a value must be a single value", name));
                    bad = true;
                    continue;
                }
                if (name == "key" && !find_field(et, "key")) name = key_name;
                if (!find_field(et, name)) {
                    error(pos_of(kv.first), fmt::format("event type '{}' has no field '{}' (fields: {})",
                                                        et.name, name, field_list(et)));
                    bad = true;
                    continue;
                }
                if (!seen.insert(name).second) continue;
                if (name == time_name) has_time = true;
                members.emplace_back(name, kv.second);
            }
            if (bad) continue;
            if (!has_time) {
                error(pos_of(ev),
                      fmt::format("the event needs a time: 'at: 10s' (or its field '{}')", time_name));
                continue;
            }
            if (!seen.count(key_name) && tc.key) {
                members.emplace_back(key_name, *tc.key);
                seen.insert(key_name);
            }
            if (tf.defaults && tf.defaults[et.name])
                for (const auto& kv : tf.defaults[et.name]) {
                    std::string name = kv.first.as<std::string>();
                    if (!find_field(et, name)) {
                        error(pos_of(kv.first),
                              fmt::format("defaults: event type '{}' has no field '{}' (fields: {})", et.name,
                                          name, field_list(et)));
                        continue;
                    }
                    if (!kv.second.IsScalar() && !kv.second.IsNull()) {
                        error(pos_of(kv.second),
                              fmt::format("defaults: field '{}' must be a single value", name));
                        continue;
                    }
                    if (seen.insert(name).second) members.emplace_back(name, kv.second);
                }
            std::string line = "{";
            runtime::append_json_string(line, type_field);
            line.push_back(':');
            runtime::append_json_string(line, et.name);
            for (const auto& [name, v] : members) {
                line.push_back(',');
                runtime::append_json_string(line, name);
                line.push_back(':');
                if (name == time_name && v.IsScalar() && runtime::parse_rfc3339(v.Scalar()))
                    runtime::append_json_string(line, v.Scalar());
                else
                    append_value(line, *find_field(et, name), v, start);
            }
            line.push_back('}');
            lines.push_back(std::move(line));
        }
    }
    return lines;
}

} // namespace ethogram::ruletest
