// config.cpp: YAML configuration loading and validation (yaml-cpp; its exceptions stop here).
#include "runtime/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace ethogram::runtime {

namespace {

// Validates one YAML document into a config. Returns an error message (without the file name) or "".
class ConfigReader {
public:
    explicit ConfigReader(EngineConfig& cfg) : cfg_(cfg) {}

    std::string read(const YAML::Node& root) {
        if (!root || root.IsNull()) return ""; // an empty file is the default configuration
        if (!root.IsMap()) return "the top level must be a mapping (time:, input:, state:, output:)";
        for (const auto& kv : root) {
            std::string key = kv.first.as<std::string>();
            std::string err;
            if (key == "time")
                err = section(kv.second, key, &ConfigReader::time_key);
            else if (key == "input")
                err = section(kv.second, key, &ConfigReader::input_key);
            else if (key == "state")
                err = section(kv.second, key, &ConfigReader::state_key);
            else if (key == "output")
                err = section(kv.second, key, &ConfigReader::output_key);
            else
                err = fmt::format("unknown key '{}' (expected one of: time, input, state, output)", key);
            if (!err.empty()) return err;
        }
        return "";
    }

private:
    using KeyFn = std::string (ConfigReader::*)(const std::string& path, const std::string& key,
                                                const YAML::Node& v);

    std::string section(const YAML::Node& node, const std::string& name, KeyFn fn) {
        if (node.IsNull()) return "";
        if (!node.IsMap()) return fmt::format("'{}' must be a mapping", name);
        for (const auto& kv : node) {
            std::string key = kv.first.as<std::string>();
            std::string err = (this->*fn)(name + "." + key, key, kv.second);
            if (!err.empty()) return err;
        }
        return "";
    }

    static std::string unknown(const std::string& path, std::string_view expected) {
        return fmt::format("unknown key '{}' (expected one of: {})", path, expected);
    }

    static bool scalar(const YAML::Node& v, std::string& out) {
        if (!v.IsScalar()) return false;
        out = v.Scalar();
        return true;
    }

    std::string time_key(const std::string& path, const std::string& key, const YAML::Node& v) {
        if (key != "allowed_lateness") return unknown(path, "allowed_lateness");
        std::string s;
        if (!scalar(v, s)) return fmt::format("'{}' must be a duration such as \"5s\"", path);
        // A bare number is milliseconds, as in the event input.
        if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
            auto d = parse_duration(s + "ms");
            if (!d) return fmt::format("'{}': {}", path, d.error());
            cfg_.allowed_lateness_us = *d;
            return "";
        }
        auto d = parse_duration(s);
        if (!d) return fmt::format("'{}' must be a duration such as \"5s\": {}", path, d.error());
        cfg_.allowed_lateness_us = *d;
        return "";
    }

    std::string input_key(const std::string& path, const std::string& key, const YAML::Node& v) {
        std::string s;
        if (!scalar(v, s)) return fmt::format("'{}' must be a string", path);
        if (key == "epoch_unit") {
            auto u = parse_epoch_unit(s);
            if (!u) return fmt::format("'{}': {}", path, u.error());
            cfg_.epoch_unit = *u;
        } else if (key == "type_field") {
            if (s.empty()) return fmt::format("'{}' must be a non-empty field name", path);
            cfg_.type_field = s;
        } else if (key == "path") {
            cfg_.input_path = s;
        } else {
            return unknown(path, "path, epoch_unit, type_field");
        }
        return "";
    }

    std::string state_key(const std::string& path, const std::string& key, const YAML::Node& v) {
        uint32_t* dst = nullptr;
        if (key == "max_state_bytes") {
            std::string text;
            if (!scalar(v, text)) return fmt::format("'{}' must be a byte count such as 512MiB", path);
            auto b = parse_bytes(text);
            if (!b) return fmt::format("'{}': {}", path, b.error());
            cfg_.max_state_bytes = *b;
            return "";
        }
        if (key == "max_partial_matches")
            dst = &cfg_.max_partial_matches;
        else if (key == "max_scope_events")
            dst = &cfg_.max_scope_events;
        else
            return unknown(path, "max_partial_matches, max_scope_events, max_state_bytes");
        return positive_u32(path, v, dst);
    }

    /// Parses a positive integer below 2^32 into `dst`; an error message otherwise.
    std::string positive_u32(const std::string& path, const YAML::Node& v, uint32_t* dst) {
        std::string s;
        if (!scalar(v, s) || s.empty() || s.size() > 10 ||
            s.find_first_not_of("0123456789") != std::string::npos)
            return fmt::format("'{}' must be a positive integer, got '{}'", path,
                               v.IsScalar() ? v.Scalar() : "?");
        uint64_t n = std::stoull(s);
        if (n == 0 || n > UINT32_MAX)
            return fmt::format("'{}' must be a positive integer below 2^32, got {}", path, s);
        *dst = static_cast<uint32_t>(n);
        return "";
    }

    std::string output_key(const std::string& path, const std::string& key, const YAML::Node& v) {
        if (key == "max_events_per_alias") return positive_u32(path, v, &cfg_.max_events_per_alias);
        std::string s;
        if (!scalar(v, s)) return fmt::format("'{}' must be a scalar", path);
        if (key == "explain") {
            if (s == "true")
                cfg_.explain = true;
            else if (s == "false")
                cfg_.explain = false;
            else
                return fmt::format("'{}' must be true or false, got '{}'", path, s);
        } else if (key == "path") {
            cfg_.output_path = s;
        } else if (key == "dead_letter") {
            cfg_.dead_letter_path = s;
        } else if (key == "suppressed") {
            cfg_.suppressed_path = s;
        } else if (key == "summary_json") {
            cfg_.summary_json_path = s;
        } else {
            return unknown(path,
                           "path, explain, dead_letter, suppressed, summary_json, max_events_per_alias");
        }
        return "";
    }

    EngineConfig& cfg_;
};

} // namespace

Expected<EpochUnit> parse_epoch_unit(std::string_view s) {
    if (s == "ms") return EpochUnit::Millis;
    if (s == "s") return EpochUnit::Seconds;
    return Error{fmt::format("epoch unit must be 'ms' or 's', got '{}'", s)};
}

Expected<uint64_t> parse_bytes(std::string_view s) {
    size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0 || digits > 15)
        return Error{fmt::format("expected a byte count such as 512MiB, got '{}'", s)};
    uint64_t n = std::stoull(std::string(s.substr(0, digits)));
    std::string_view unit = s.substr(digits);
    uint64_t mul = 0;
    if (unit.empty() || unit == "B")
        mul = 1;
    else if (unit == "KiB")
        mul = uint64_t{1} << 10;
    else if (unit == "MiB")
        mul = uint64_t{1} << 20;
    else if (unit == "GiB")
        mul = uint64_t{1} << 30;
    else
        return Error{fmt::format("unknown unit '{}' in '{}' (expected B, KiB, MiB or GiB)", unit, s)};
    return n * mul;
}

Expected<EngineConfig> parse_config(std::string_view text, std::string_view name) {
    EngineConfig cfg;
    try {
        YAML::Node root = YAML::Load(std::string(text));
        std::string err = ConfigReader(cfg).read(root);
        if (!err.empty()) return Error{fmt::format("{}: {}", name, err)};
    } catch (const YAML::Exception& e) {
        return Error{
            fmt::format("{}:{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg)};
    }
    return cfg;
}

Expected<EngineConfig> load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{fmt::format("{}: cannot open configuration file", path)};
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_config(ss.str(), path);
}

} // namespace ethogram::runtime
