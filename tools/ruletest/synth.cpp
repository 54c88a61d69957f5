// synth.cpp: the scenario reader and the journey generator (splitmix64, one stream per user).
#include "tools/ruletest/synth.h"

#include "runtime/json_writer.h"
#include "runtime/time.h"
#include "tools/ruletest/spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

namespace ethogram::ruletest {

namespace {

struct SynthError {
    Pos pos;
    std::string msg;
};

[[noreturn]] void fail(const YAML::Node& n, std::string msg) {
    throw SynthError{pos_of(n), std::move(msg)};
}

// Deterministic generator: the same journeys for one seed on every platform.
class Rng {
public:
    explicit Rng(uint64_t seed) : s_(seed) {}
    uint64_t next() {
        uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } ///< [0, 1)
    int64_t between(int64_t a, int64_t b) {                                 ///< [a, b]
        if (b <= a) return a;
        return a + static_cast<int64_t>(next() % static_cast<uint64_t>(b - a + 1));
    }
    double normal() { // Box-Muller
        double u = unit(), v = unit();
        return std::sqrt(-2.0 * std::log(1.0 - u)) * std::cos(2.0 * M_PI * v);
    }

private:
    uint64_t s_;
};

std::string scalar(const YAML::Node& n, const std::string& what) {
    if (!n || !n.IsScalar()) fail(n, fmt::format("'{}' must be a single value", what));
    return n.Scalar();
}

double number(const YAML::Node& n, const std::string& what) {
    std::string s = scalar(n, what);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
        fail(n, fmt::format("'{}' must be a number, got '{}'", what, s));
    return v;
}

int64_t duration(const YAML::Node& n, const std::string& what) {
    auto d = parse_compound_duration(scalar(n, what));
    if (!d) fail(n, fmt::format("'{}' must be a duration such as 30s or 1m30s, got '{}'", what, n.Scalar()));
    return *d;
}

void check_keys(const YAML::Node& map, const std::string& what,
                std::initializer_list<std::string_view> allowed) {
    if (!map.IsMap()) fail(map, fmt::format("{} must be a mapping", what));
    for (const auto& kv : map) {
        const std::string k = kv.first.as<std::string>();
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string list;
        for (auto a : allowed) {
            list += list.empty() ? "" : ", ";
            list += std::string(a);
        }
        fail(kv.first, fmt::format("unknown key '{}' in {} (expected one of: {})", k, what, list));
    }
}

/// A time distribution between two steps.
struct Gap {
    enum Kind { Fixed, Uniform, Exponential, Normal } kind = Fixed;
    int64_t a = 0, b = 0;
    /// A gap in µs, rounded to the millisecond (what event producers usually write).
    int64_t draw(Rng& r) const {
        const int64_t us = raw(r);
        return (us + 500) / 1000 * 1000;
    }
    int64_t raw(Rng& r) const {
        switch (kind) {
        case Fixed: return a;
        case Uniform: return r.between(a, b);
        case Exponential: return static_cast<int64_t>(-std::log(1.0 - r.unit()) * static_cast<double>(a));
        case Normal:
            return std::max<int64_t>(0, a + static_cast<int64_t>(r.normal() * static_cast<double>(b)));
        }
        return a;
    }
};

Gap gap_of(const YAML::Node& n) {
    Gap g;
    if (n.IsScalar()) {
        g.a = duration(n, "gap");
        return g;
    }
    check_keys(n, "a gap", {"fixed", "uniform", "exponential", "normal"});
    if (n.size() != 1) fail(n, "a gap has exactly one distribution: fixed, uniform, exponential or normal");
    const auto kv = *n.begin();
    const std::string k = kv.first.as<std::string>();
    if (k == "fixed" || k == "exponential") {
        g.kind = k == "fixed" ? Gap::Fixed : Gap::Exponential;
        g.a = duration(kv.second, k);
        return g;
    }
    if (!kv.second.IsSequence() || kv.second.size() != 2)
        fail(kv.second,
             fmt::format("'{}' takes two durations: [{}]", k, k == "uniform" ? "min, max" : "mean, sd"));
    g.kind = k == "uniform" ? Gap::Uniform : Gap::Normal;
    g.a = duration(kv.second[0], k);
    g.b = duration(kv.second[1], k);
    if (g.kind == Gap::Uniform && g.b < g.a) fail(kv.second, "uniform: the maximum is below the minimum");
    return g;
}

/// A field value generator; its result is JSON text.
struct Gen {
    enum Kind { Const, Var, Choice, Uniform, Int, Normal } kind = Const;
    std::string text; ///< Const: JSON; Var: variable name
    std::vector<std::string> choices;
    std::vector<double> weights;
    double a = 0, b = 0;
    int decimals = -1;
};

std::string json_scalar(const YAML::Node& n) {
    if (n.IsNull()) return "null";
    const std::string s = n.Scalar();
    if (n.Tag() != "!") {
        if (s == "true" || s == "false" || s == "null") return s;
        char* end = nullptr;
        std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size() && s.find_first_of("xXnNiI") == std::string::npos &&
            s[0] != '+' && s[0] != '.')
            return s;
    }
    std::string out;
    runtime::append_json_string(out, s);
    return out;
}

Gen gen_of(const YAML::Node& n) {
    Gen g;
    if (n.IsScalar() || n.IsNull()) {
        if (n.IsScalar() && n.Tag() != "!" && !n.Scalar().empty() && n.Scalar()[0] == '$') {
            g.kind = Gen::Var;
            g.text = n.Scalar().substr(1);
        } else {
            g.text = json_scalar(n);
        }
        return g;
    }
    check_keys(n, "a value generator", {"choice", "weights", "uniform", "int", "normal", "decimals"});
    if (n["decimals"]) g.decimals = static_cast<int>(number(n["decimals"], "decimals"));
    if (const YAML::Node c = n["choice"]) {
        if (!c.IsSequence() || c.size() == 0) fail(c, "'choice' takes a non-empty list of values");
        g.kind = Gen::Choice;
        for (const auto& x : c) g.choices.push_back(json_scalar(x));
        if (const YAML::Node w = n["weights"]) {
            if (!w.IsSequence() || w.size() != c.size()) fail(w, "'weights' needs one number per choice");
            for (const auto& x : w) {
                g.weights.push_back(number(x, "weights"));
                if (g.weights.back() < 0) fail(x, "a weight cannot be negative");
            }
        }
        return g;
    }
    for (const char* k : {"uniform", "int", "normal"}) {
        const YAML::Node r = n[k];
        if (!r) continue;
        if (!r.IsSequence() || r.size() != 2)
            fail(r, fmt::format("'{}' takes two numbers: [{}]", k,
                                std::string(k) == "normal" ? "mean, sd" : "min, max"));
        g.kind = std::string(k) == "uniform" ? Gen::Uniform
                 : std::string(k) == "int"   ? Gen::Int
                                             : Gen::Normal;
        g.a = number(r[0], k);
        g.b = number(r[1], k);
        if (g.kind != Gen::Normal && g.b < g.a)
            fail(r, fmt::format("{}: the maximum is below the minimum", k));
        return g;
    }
    fail(n, "a value generator is a value, $variable, {choice: [...]}, {uniform: [a, b]}, {int: [a, b]} or "
            "{normal: [mean, sd]}");
}

std::string real(double v, int decimals) {
    if (decimals >= 0) {
        const double p = std::pow(10.0, decimals);
        v = std::round(v * p) / p;
    }
    std::string s;
    runtime::append_json_double(s, v);
    return s;
}

std::string draw(const Gen& g, Rng& r, const std::map<std::string, std::string>& vars,
                 const YAML::Node& where) {
    switch (g.kind) {
    case Gen::Const: return g.text;
    case Gen::Var: {
        auto it = vars.find(g.text);
        if (it == vars.end())
            fail(where, fmt::format("unknown variable '${}' (declare it under 'vars')", g.text));
        return it->second;
    }
    case Gen::Choice: {
        if (g.weights.empty())
            return g.choices[static_cast<size_t>(r.between(0, static_cast<int64_t>(g.choices.size()) - 1))];
        double total = 0;
        for (double w : g.weights) total += w;
        double x = r.unit() * total;
        for (size_t i = 0; i < g.choices.size(); ++i) {
            if (x < g.weights[i]) return g.choices[i];
            x -= g.weights[i];
        }
        return g.choices.back();
    }
    case Gen::Uniform: return real(g.a + r.unit() * (g.b - g.a), g.decimals);
    case Gen::Int: return std::to_string(r.between(static_cast<int64_t>(g.a), static_cast<int64_t>(g.b)));
    case Gen::Normal: return real(g.a + r.normal() * g.b, g.decimals);
    }
    return "null";
}

struct Step {
    YAML::Node node;
    std::string type;
    int64_t repeat_min = 1, repeat_max = 1;
    double probability = 1.0;
    Gap gap;
    std::vector<std::pair<std::string, Gen>> fields;
};

struct Journey {
    std::string name;
    uint64_t users = 1;
    std::vector<std::pair<std::string, Gen>> vars;
    std::vector<Step> steps;
    YAML::Node node;
};

struct Line {
    int64_t time;
    uint64_t user, n;
    std::string json;
};

} // namespace

bool synthesize(const std::string& path, std::optional<uint64_t> seed_opt, SynthResult& out,
                std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format("{}: error: cannot read the scenario", path);
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        const YAML::Node root = YAML::Load(ss.str());
        check_keys(root, "the scenario",
                   {"seed", "start", "spread", "type_field", "key_field", "time_field", "id_field",
                    "key_prefix", "key_start", "journeys"});
        uint64_t seed = 1;
        if (root["seed"]) seed = static_cast<uint64_t>(number(root["seed"], "seed"));
        if (seed_opt) seed = *seed_opt;
        int64_t start = *runtime::parse_rfc3339("2026-01-01T00:00:00Z");
        if (const YAML::Node s = root["start"]) {
            auto t = runtime::parse_rfc3339(scalar(s, "start"));
            if (!t) fail(s, fmt::format("'start' must be an RFC 3339 time: {}", t.error()));
            start = *t;
        }
        const int64_t spread = root["spread"] ? duration(root["spread"], "spread") / 1000 : 0; // in ms
        auto name = [&](const char* k, const char* def) {
            return root[k] ? scalar(root[k], k) : std::string(def);
        };
        const std::string type_field = name("type_field", "type"), key_field = name("key_field", "user_id"),
                          time_field = name("time_field", "ts"), id_field = name("id_field", "");
        const bool string_keys = static_cast<bool>(root["key_prefix"]);
        const std::string key_prefix = string_keys ? scalar(root["key_prefix"], "key_prefix") : "";
        const int64_t key_start =
            root["key_start"] ? static_cast<int64_t>(number(root["key_start"], "key_start")) : 1;

        const YAML::Node js = root["journeys"];
        if (!js || !js.IsSequence() || js.size() == 0)
            fail(js ? js : root, "'journeys' must be a non-empty list");
        std::vector<Journey> journeys;
        for (const auto& j : js) {
            check_keys(j, "a journey", {"name", "users", "vars", "steps"});
            Journey jr;
            jr.node = YAML::Node(j);
            jr.name = j["name"] ? scalar(j["name"], "name") : fmt::format("journey {}", journeys.size() + 1);
            if (j["users"]) {
                const double u = number(j["users"], "users");
                if (u < 0 || u > 1e7 || u != std::floor(u))
                    fail(j["users"], "'users' must be a whole number up to 10^7");
                jr.users = static_cast<uint64_t>(u);
            }
            if (const YAML::Node v = j["vars"]) {
                if (!v.IsMap()) fail(v, "'vars' maps variable names to value generators");
                for (const auto& kv : v) jr.vars.emplace_back(kv.first.as<std::string>(), gen_of(kv.second));
            }
            const YAML::Node steps = j["steps"];
            if (!steps || !steps.IsSequence() || steps.size() == 0)
                fail(steps ? steps : j, "a journey needs 'steps'");
            for (const auto& s : steps) {
                check_keys(s, "a step", {"type", "repeat", "probability", "gap", "fields"});
                Step st;
                st.node = YAML::Node(s);
                st.type = scalar(s["type"], "type");
                if (const YAML::Node r = s["repeat"]) {
                    if (r.IsScalar()) {
                        st.repeat_min = st.repeat_max = static_cast<int64_t>(number(r, "repeat"));
                    } else {
                        check_keys(r, "'repeat'", {"min", "max"});
                        st.repeat_min = static_cast<int64_t>(number(r["min"], "repeat.min"));
                        st.repeat_max = static_cast<int64_t>(number(r["max"], "repeat.max"));
                    }
                    if (st.repeat_min < 0 || st.repeat_max < st.repeat_min || st.repeat_max > 100000)
                        fail(r, "'repeat' must be a count, or {min, max} with 0 <= min <= max <= 100000");
                }
                if (s["probability"]) {
                    st.probability = number(s["probability"], "probability");
                    if (st.probability < 0 || st.probability > 1)
                        fail(s["probability"], "'probability' is between 0 and 1");
                }
                if (s["gap"]) st.gap = gap_of(s["gap"]);
                if (const YAML::Node f = s["fields"]) {
                    if (!f.IsMap()) fail(f, "'fields' maps field names to values or generators");
                    for (const auto& kv : f)
                        st.fields.emplace_back(kv.first.as<std::string>(), gen_of(kv.second));
                }
                jr.steps.push_back(std::move(st));
            }
            journeys.push_back(std::move(jr));
        }

        std::vector<Line> lines;
        uint64_t user = 0;
        for (size_t ji = 0; ji < journeys.size(); ++ji) {
            const Journey& jr = journeys[ji];
            for (uint64_t u = 0; u < jr.users; ++u, ++user) {
                // One stream per user: adding users or journeys leaves the others' events unchanged.
                Rng rng(seed * 0x100000001B3ULL ^ (static_cast<uint64_t>(ji) << 40) ^ u);
                std::string key;
                if (string_keys)
                    runtime::append_json_string(
                        key, key_prefix + std::to_string(key_start + static_cast<int64_t>(user)));
                else
                    key = std::to_string(key_start + static_cast<int64_t>(user));
                std::map<std::string, std::string> vars;
                for (const auto& [n, g] : jr.vars) vars[n] = draw(g, rng, vars, jr.node);
                int64_t t = start + (spread > 0 ? rng.between(0, spread) * 1000 : 0);
                bool first = true;
                for (const Step& st : jr.steps) {
                    if (st.probability < 1.0 && rng.unit() >= st.probability) continue;
                    const int64_t reps = rng.between(st.repeat_min, st.repeat_max);
                    for (int64_t k = 0; k < reps; ++k) {
                        if (!first) t += st.gap.draw(rng);
                        first = false;
                        std::string json = "{";
                        runtime::append_json_string(json, type_field);
                        json += ":";
                        runtime::append_json_string(json, st.type);
                        json += ",";
                        runtime::append_json_string(json, key_field);
                        json += ":" + key + ",";
                        runtime::append_json_string(json, time_field);
                        json += fmt::format(":\"{}\"", runtime::format_rfc3339(t));
                        if (!id_field.empty()) {
                            json += ",";
                            runtime::append_json_string(json, id_field);
                            json += fmt::format(":\"{}-{}\"", user + key_start, lines.size() + 1);
                        }
                        for (const auto& [n, g] : st.fields) {
                            json += ",";
                            runtime::append_json_string(json, n);
                            json += ':';
                            json += draw(g, rng, vars, st.node);
                        }
                        json += "}";
                        lines.push_back({t, user, lines.size(), std::move(json)});
                    }
                }
            }
        }
        std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
            return std::tie(a.time, a.user, a.n) < std::tie(b.time, b.user, b.n);
        });
        out = SynthResult{};
        out.users = user;
        out.events = lines.size();
        for (const Line& l : lines) out.jsonl += l.json + "\n";
    } catch (const SynthError& e) {
        error = located(path, e.pos, e.msg);
        return false;
    } catch (const YAML::Exception& e) {
        error = yaml_error(path, e);
        return false;
    }
    return true;
}

} // namespace ethogram::ruletest
