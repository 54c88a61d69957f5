// event_log.cpp: JSON Lines events -> per-key sequences (simdjson), malformed-line accounting, label files.
#include "tools/event_log.h"

#include "runtime/json_writer.h"
#include "runtime/line_reader.h"
#include "runtime/time.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace ethogram::tools {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* json_type(element_type t) {
    switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "?";
}

bool blank(std::string_view s) {
    return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

// An event as read, before grouping.
struct Raw {
    uint32_t key;   // index into the key table
    int64_t time;   // µs
    uint64_t order; // file order, to break time ties
    std::string symbol;
};

// Scalar member as text: strings as they are, integers in decimal, booleans as true/false.
bool text_of(element v, std::string& out, bool allow_bool) {
    switch (v.type()) {
    case element_type::STRING: out = std::string(v.get_string().value_unsafe()); return true;
    case element_type::INT64: out = std::to_string(v.get_int64().value_unsafe()); return true;
    case element_type::UINT64: out = std::to_string(v.get_uint64().value_unsafe()); return true;
    case element_type::BOOL:
        if (!allow_bool) return false;
        out = v.get_bool().value_unsafe() ? "true" : "false";
        return true;
    default: return false;
    }
}

} // namespace

models::Expected<EventLog> read_event_log(const std::string& path, const EventLogOptions& o) {
    auto reader = runtime::LineReader::open(path);
    if (!reader) return models::Error{reader.error()};
    std::FILE* dead = nullptr;
    if (!o.dead_letter_path.empty()) {
        dead = std::fopen(o.dead_letter_path.c_str(), "wb");
        if (!dead)
            return models::Error{fmt::format("{}: cannot write the dead-letter file: {}", o.dead_letter_path,
                                             std::strerror(errno))};
    }
    EventLog log;
    log.file = path;
    std::vector<std::string> keys;
    std::unordered_map<std::string, uint32_t> key_ids;
    std::vector<Raw> raw;
    simdjson::dom::parser parser;
    std::string padded, record, scratch;

    auto malformed = [&](uint64_t line, const char* reason, std::string detail, std::string_view text) {
        ++log.malformed;
        ++log.malformed_by_reason[reason];
        if (dead) {
            record.clear();
            record += "{\"file\":";
            runtime::append_json_string(record, path);
            record += ",\"line\":";
            runtime::append_json_uint(record, line);
            record += ",\"reason\":";
            runtime::append_json_string(record, reason);
            record += ",\"detail\":";
            runtime::append_json_string(record, detail);
            record += ",\"raw\":";
            runtime::append_json_string(record, text);
            record += "}\n";
            std::fwrite(record.data(), 1, record.size(), dead);
        }
        if (log.first_malformed.size() < kMaxListedMalformed)
            log.first_malformed.push_back({line, reason, std::move(detail)});
    };

    std::string_view line;
    while (reader.value()->next(line)) {
        const uint64_t no = reader.value()->line_number();
        ++log.lines;
        if (blank(line)) {
            ++log.blank;
            continue;
        }
        padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
        std::copy(line.begin(), line.end(), padded.begin());
        element doc;
        if (auto err = parser.parse(padded.data(), line.size(), false).get(doc)) {
            malformed(no, "parse_error", fmt::format("invalid JSON: {}", simdjson::error_message(err)), line);
            continue;
        }
        simdjson::dom::object obj;
        if (doc.get_object().get(obj)) {
            malformed(no, "parse_error", fmt::format("expected a JSON object, got {}", json_type(doc.type())),
                      line);
            continue;
        }
        element v;
        std::string_view type;
        if (obj.at_key(o.type_field).get(v) || v.get_string().get(type)) {
            malformed(no, "missing_type",
                      fmt::format("no string member \"{}\" naming the event type", o.type_field), line);
            continue;
        }
        if (!o.event_types.empty() && !o.event_types.contains(std::string(type))) {
            ++log.other_types;
            continue;
        }
        std::string key;
        if (obj.at_key(o.key_field).get(v) || v.is_null()) {
            malformed(no, "missing_key", fmt::format("no \"{}\" member (the sequence key)", o.key_field),
                      line);
            continue;
        }
        if (!text_of(v, key, false)) {
            malformed(no, "bad_field",
                      fmt::format("\"{}\" must be a string or an integer, got {}", o.key_field,
                                  json_type(v.type())),
                      line);
            continue;
        }
        std::string symbol;
        if (obj.at_key(o.field).get(v) || v.is_null()) {
            malformed(no, "missing_field", fmt::format("no \"{}\" member (the model's field)", o.field),
                      line);
            continue;
        }
        if (!text_of(v, symbol, true)) {
            malformed(no, "bad_field",
                      fmt::format("\"{}\" must be a string, integer or boolean, got {}", o.field,
                                  json_type(v.type())),
                      line);
            continue;
        }
        if (obj.at_key(o.time_field).get(v) || v.is_null()) {
            malformed(no, "bad_time", fmt::format("no \"{}\" member (the event time)", o.time_field), line);
            continue;
        }
        int64_t us = 0;
        std::string terr;
        const runtime::EpochUnit unit =
            o.epoch_seconds ? runtime::EpochUnit::Seconds : runtime::EpochUnit::Millis;
        if (v.is_string()) {
            auto t = runtime::parse_rfc3339(v.get_string().value_unsafe());
            if (t)
                us = *t;
            else
                terr = t.error();
        } else if (v.is_int64()) {
            auto t = runtime::epoch_to_micros(v.get_int64().value_unsafe(), unit);
            if (t)
                us = *t;
            else
                terr = t.error();
        } else if (v.is_number()) {
            double d = 0;
            if (v.get_double().get(d)) d = NAN; // a uint64 beyond int64: epoch_to_micros refuses it
            auto t = runtime::epoch_to_micros(d, unit);
            if (t)
                us = *t;
            else
                terr = t.error();
        } else {
            terr = fmt::format("expected an RFC 3339 string or an epoch number, got {}", json_type(v.type()));
        }
        if (!terr.empty()) {
            malformed(no, "bad_time", fmt::format("\"{}\": {}", o.time_field, terr), line);
            continue;
        }
        auto [it, fresh] = key_ids.try_emplace(key, static_cast<uint32_t>(keys.size()));
        if (fresh) keys.push_back(key);
        raw.push_back({it->second, us, raw.size(), std::move(symbol)});
        if (log.events == 0 || us < log.min_us) log.min_us = us;
        if (log.events == 0 || us > log.max_us) log.max_us = us;
        ++log.events;
    }
    const std::string read_error = reader.value()->error();
    if (dead && std::fclose(dead) != 0 && read_error.empty())
        return models::Error{fmt::format("{}: cannot write the dead-letter file: {}", o.dead_letter_path,
                                         std::strerror(errno))};
    if (!read_error.empty()) return models::Error{read_error};

    // Group by key (first appearance), order by time within a key, then cut at gaps and at max_length.
    std::stable_sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
        return a.key != b.key ? a.key < b.key : a.time != b.time ? a.time < b.time : a.order < b.order;
    });
    for (size_t i = 0; i < raw.size();) {
        size_t j = i;
        while (j < raw.size() && raw[j].key == raw[i].key) ++j;
        std::vector<Sequence> pieces;
        for (size_t t = i; t < j; ++t) {
            const bool cut = pieces.empty() ||
                             (o.gap_us > 0 && raw[t].time - pieces.back().last_us > o.gap_us) ||
                             (o.max_length > 0 && pieces.back().symbols.size() >= o.max_length);
            if (cut) {
                pieces.emplace_back();
                pieces.back().key = keys[raw[i].key];
                pieces.back().first_us = raw[t].time;
            }
            pieces.back().symbols.push_back(std::move(raw[t].symbol));
            pieces.back().last_us = raw[t].time;
        }
        for (size_t p = 0; p < pieces.size(); ++p) {
            pieces[p].id = pieces.size() == 1 ? pieces[p].key : fmt::format("{}#{}", pieces[p].key, p + 1);
            log.sequences.push_back(std::move(pieces[p]));
        }
        i = j;
    }
    return log;
}

std::string describe_malformed(const EventLog& log) {
    std::string out;
    for (const auto& m : log.first_malformed)
        out += fmt::format("{}:{}: {}: {}\n", log.file, m.line, m.reason, m.detail);
    if (log.malformed > log.first_malformed.size())
        out += fmt::format("... and {} more malformed line(s)\n", log.malformed - log.first_malformed.size());
    return out;
}

const std::string* Labels::find(const Sequence& s) const {
    auto it = by_key.find(s.id);
    if (it == by_key.end()) it = by_key.find(s.key);
    return it == by_key.end() ? nullptr : &it->second;
}

namespace {

std::string trim(std::string_view s) {
    size_t a = s.find_first_not_of(" \t\r");
    if (a == std::string_view::npos) return "";
    size_t b = s.find_last_not_of(" \t\r");
    return std::string(s.substr(a, b - a + 1));
}

std::vector<std::string> split_csv(std::string_view line) {
    std::vector<std::string> out;
    size_t at = 0;
    while (true) {
        size_t comma = line.find(',', at);
        out.push_back(
            trim(line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at)));
        if (comma == std::string_view::npos) break;
        at = comma + 1;
    }
    return out;
}

} // namespace

models::Expected<Labels> read_labels(const std::string& path) {
    auto reader = runtime::LineReader::open(path);
    if (!reader) return models::Error{reader.error()};
    Labels labels;
    labels.file = path;
    enum class Format { Unknown, Jsonl, Csv } format = Format::Unknown;
    size_t key_col = 0, label_col = 0, columns = 0;
    simdjson::dom::parser parser;
    std::string padded;
    std::string_view line;
    auto bad = [&](uint64_t no, const std::string& why) {
        return models::Error{fmt::format("{}:{}: error: {}", path, no, why)};
    };
    while (reader.value()->next(line)) {
        const uint64_t no = reader.value()->line_number();
        if (blank(line)) continue;
        std::string key, label;
        if (format == Format::Unknown) {
            if (trim(line).starts_with("{")) {
                format = Format::Jsonl;
            } else {
                format = Format::Csv;
                auto header = split_csv(line);
                columns = header.size();
                auto k = std::find(header.begin(), header.end(), "key");
                auto l = std::find(header.begin(), header.end(), "label");
                if (k == header.end() || l == header.end())
                    return bad(no,
                               "a CSV labels file starts with a header naming a 'key' and a 'label' column "
                               "(or use JSON Lines: {\"key\": ..., \"label\": ...})");
                key_col = static_cast<size_t>(k - header.begin());
                label_col = static_cast<size_t>(l - header.begin());
                continue;
            }
        }
        if (format == Format::Jsonl) {
            padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
            std::copy(line.begin(), line.end(), padded.begin());
            element doc;
            if (auto err = parser.parse(padded.data(), line.size(), false).get(doc))
                return bad(no, fmt::format("invalid JSON: {}", simdjson::error_message(err)));
            element k, l;
            std::string_view ls;
            if (!doc.is_object() || doc.at_key("key").get(k) || !text_of(k, key, false))
                return bad(no, "expected an object with a \"key\" member (string or integer)");
            if (doc.at_key("label").get(l) || l.get_string().get(ls) || ls.empty())
                return bad(no, "expected a non-empty string member \"label\"");
            label = std::string(ls);
        } else {
            auto cells = split_csv(line);
            if (cells.size() != columns)
                return bad(no, fmt::format("{} column(s), the header has {}", cells.size(), columns));
            key = cells[key_col];
            label = cells[label_col];
            if (key.empty() || label.empty()) return bad(no, "empty key or label");
        }
        auto [it, fresh] = labels.by_key.emplace(key, label);
        if (!fresh && it->second != label)
            return bad(no,
                       fmt::format("key '{}' is labelled '{}' here and '{}' before", key, label, it->second));
    }
    if (!reader.value()->error().empty()) return models::Error{reader.value()->error()};
    if (labels.by_key.empty()) return models::Error{path + ": error: no labels in the file"};
    return labels;
}

models::Expected<DetectionKeys> read_detection_keys(const std::string& path, const std::string& rule) {
    auto reader = runtime::LineReader::open(path);
    if (!reader) return models::Error{reader.error()};
    DetectionKeys d;
    simdjson::dom::parser parser;
    std::string padded;
    std::string_view line;
    while (reader.value()->next(line)) {
        ++d.lines;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
        std::copy(line.begin(), line.end(), padded.begin());
        simdjson::dom::element doc;
        std::string_view r, k;
        int64_t ik = 0;
        std::string key;
        if (parser.parse(padded.data(), line.size(), false).get(doc) || doc["rule"].get_string().get(r)) {
            fmt::print(stderr, "{}:{}: malformed detection (not a JSON object with a \"rule\" string)\n",
                       path, reader.value()->line_number());
            ++d.malformed;
            continue;
        }
        if (!rule.empty() && r != rule) {
            ++d.other_rules;
            continue;
        }
        if (!doc["key"].get_string().get(k))
            key = std::string(k);
        else if (!doc["key"].get_int64().get(ik))
            key = std::to_string(ik);
        else {
            fmt::print(stderr, "{}:{}: detection without a \"key\" (string or integer)\n", path,
                       reader.value()->line_number());
            ++d.malformed;
            continue;
        }
        ++d.detections;
        d.keys.insert(key);
    }
    if (!reader.value()->error().empty()) return models::Error{reader.value()->error()};
    return d;
}

} // namespace ethogram::tools
