// typed_event.cpp: TypedEvent -> ir::Event with the JSON decoder's validation rules, value kind by value kind
// (the JSON decoder's table in runtime/decoder.h, with typed timestamps and durations added).
#include "embed/typed_event.h"

#include "runtime/event_finish.h"
#include "runtime/json_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ethogram::embed {

namespace {

using runtime::DeadReason;
using runtime::DecodeError;
using Kind = FieldValue::Kind;

std::string_view kind_name(Kind k) {
    switch (k) {
    case Kind::Null: return "null";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Bool: return "bool";
    case Kind::Duration: return "duration";
    case Kind::Timestamp: return "timestamp";
    }
    return "?";
}

// What each field type accepts, for "expected ..." messages.
std::string_view expected(ir::Type t) {
    switch (t) {
    case ir::Type::Int: return "int";
    case ir::Type::Float: return "float (an int or float)";
    case ir::Type::String: return "string";
    case ir::Type::Bool: return "bool";
    case ir::Type::Enum: return "enum (a string naming one of its values)";
    case ir::Type::Timestamp: return "timestamp (a timestamp, an RFC 3339 string or an epoch number)";
    case ir::Type::Duration: return "duration (a duration, a string such as \"250ms\" or milliseconds)";
    case ir::Type::Missing: break;
    }
    return "?";
}

std::string_view role_name(TypedEvent::Role r) {
    switch (r) {
    case TypedEvent::Role::Key: return "key";
    case TypedEvent::Role::Time: return "time";
    case TypedEvent::Role::Id: return "id";
    case TypedEvent::Role::None: break;
    }
    return "?";
}

} // namespace

TypedDecoder::TypedDecoder(const ir::RuleSet& rs, ir::StringPool& pool, runtime::EpochUnit unit)
    : rs_(rs), pool_(pool), unit_(unit), index_(runtime::build_field_index(rs)) {}

bool TypedDecoder::field(DecodeError& err, const ir::EventType& et, uint16_t slot, const FieldValue& v,
                         ir::Value& out) {
    const ir::FieldDef& fd = et.fields[slot];
    const Kind k = v.kind();
    if (k == Kind::Null) {
        if (fd.optional) {
            out = ir::Value::missing();
            return true;
        }
        return runtime::decode_fail(err, DeadReason::MissingField,
                                    fmt::format("{}.{}: required field is null", et.name, fd.name));
    }
    auto bad = [&](DeadReason r = DeadReason::BadField) {
        return runtime::decode_fail(
            err, r,
            fmt::format("{}.{}: expected {}, got {}", et.name, fd.name, expected(fd.type), kind_name(k)));
    };
    switch (fd.type) {
    case ir::Type::Int:
        if (k != Kind::Int) return bad();
        out = ir::Value::integer(v.as_int());
        return true;
    case ir::Type::Float:
        if (k == Kind::Int)
            out = ir::Value::real(double(v.as_int()));
        else if (k == Kind::Float)
            out = ir::Value::real(v.as_float());
        else
            return bad();
        return true;
    case ir::Type::String:
        if (k != Kind::String) return bad();
        out = ir::Value::string(pool_.intern(v.as_string()));
        return true;
    case ir::Type::Bool:
        if (k != Kind::Bool) return bad();
        out = ir::Value::boolean(v.as_int() != 0);
        return true;
    case ir::Type::Enum: {
        if (k != Kind::String) return bad();
        return runtime::enum_value(et, fd, v.as_string(), out, err);
    }
    case ir::Type::Timestamp: {
        Expected<int64_t> t = Error{};
        if (k == Kind::Timestamp)
            t = v.as_int();
        else if (k == Kind::String)
            t = runtime::parse_rfc3339(v.as_string());
        else if (k == Kind::Int)
            t = runtime::epoch_to_micros(v.as_int(), unit_);
        else if (k == Kind::Float)
            t = runtime::epoch_to_micros(v.as_float(), unit_);
        else
            return bad(DeadReason::BadTime); // as the JSON decoder: a timestamp of the wrong type is bad_time
        if (!t)
            return runtime::decode_fail(err, DeadReason::BadTime,
                                        fmt::format("{}.{}: {}", et.name, fd.name, t.error()));
        out = ir::Value::timestamp(*t);
        return true;
    }
    case ir::Type::Duration: {
        Expected<int64_t> d = Error{};
        if (k == Kind::Duration && v.as_int() < 0) // as the JSON decoder: a duration has no sign
            d = Error{fmt::format("duration {} us is negative", v.as_int())};
        else if (k == Kind::Duration)
            d = v.as_int();
        else if (k == Kind::String)
            d = runtime::parse_duration(v.as_string());
        else if (k == Kind::Int)
            d = runtime::duration_from_millis(double(v.as_int()));
        else if (k == Kind::Float)
            d = runtime::duration_from_millis(v.as_float());
        else
            return bad();
        if (!d)
            return runtime::decode_fail(err, DeadReason::BadField,
                                        fmt::format("{}.{}: {}", et.name, fd.name, d.error()));
        out = ir::Value::duration(*d);
        return true;
    }
    case ir::Type::Missing: break;
    }
    return runtime::decode_fail(err, DeadReason::BadField,
                                fmt::format("{}.{}: field has no type in the schema", et.name, fd.name));
}

// The key: a string, or an integer interned as decimal text (the JSON decoder's rule).
bool TypedDecoder::key(DecodeError& err, const ir::EventType& et, const FieldValue& v, ir::Event& ev) {
    const ir::FieldDef& fd = et.fields[et.key_field];
    const Kind k = v.kind();
    if (k == Kind::Null)
        return runtime::decode_fail(err, DeadReason::MissingField,
                                    fmt::format("{}.{}: the key is null", et.name, fd.name));
    if (k == Kind::String && fd.type == ir::Type::String) {
        ev.key = pool_.intern(v.as_string());
        ev.fields[et.key_field] = ir::Value::string(ev.key);
        return true;
    }
    if (k == Kind::Int) {
        ev.key = runtime::intern_decimal(pool_, scratch_, v.as_int());
        ev.fields[et.key_field] =
            fd.type == ir::Type::Int ? ir::Value::integer(v.as_int()) : ir::Value::string(ev.key);
        return true;
    }
    return runtime::decode_fail(err, DeadReason::BadField,
                                fmt::format("{}.{}: expected the key as {}, got {}", et.name, fd.name,
                                            fd.type == ir::Type::Int ? "an int" : "a string or int",
                                            kind_name(k)));
}

bool TypedDecoder::decode(const TypedEvent& in, uint64_t line_no, ir::Event& ev, DecodeError& err) {
    if (in.type().empty()) return runtime::decode_fail(err, DeadReason::MissingType, "no event type given");
    const int t = rs_.find_event(in.type());
    if (t < 0)
        return runtime::decode_fail(err, DeadReason::UnknownType,
                                    fmt::format("unknown event type \"{}\"", in.type()));
    const ir::EventType& et = rs_.events[t];
    const auto& idx = index_[t];

    runtime::begin_event(rs_, t, line_no, ev, seen_);

    for (const TypedEvent::Field& f : in.fields()) {
        uint16_t slot = ir::kNoField;
        switch (f.role) {
        case TypedEvent::Role::None: {
            auto it = idx.find(f.name);
            if (it == idx.end()) continue; // not a schema field: ignored, as unknown JSON members are
            slot = it->second;
            break;
        }
        case TypedEvent::Role::Key: slot = et.key_field; break;
        case TypedEvent::Role::Time: slot = et.time_field; break;
        case TypedEvent::Role::Id: slot = et.id_field; break;
        }
        if (slot == ir::kNoField) // a role the schema does not have: a caller's mistake, said plainly
            return runtime::decode_fail(
                err, DeadReason::BadField,
                fmt::format("{}: the event has no {} field", et.name, role_name(f.role)));
        seen_[slot] = 1;
        if (slot == et.key_field) {
            if (!key(err, et, f.value, ev)) return false;
        } else if (!field(err, et, slot, f.value, ev.fields[slot])) {
            return false;
        }
    }
    return runtime::finish_event(et, seen_, &pool_, scratch_, ev, err);
}

namespace {

// A float that reads back as a float: the shortest round-trip form, with ".0" when it has neither a
// fraction nor an exponent (2.0 as "2" would turn a value an int field refused into an int).
void append_float(std::string& out, double v) {
    if (!std::isfinite(v)) {
        runtime::append_json_string(out, std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
        return;
    }
    const size_t at = out.size();
    runtime::append_json_double(out, v);
    if (out.find_first_of(".eE", at) == std::string::npos) out += ".0";
}

void append_value(std::string& out, const FieldValue& v) {
    switch (v.kind()) {
    case Kind::Null: out += "null"; break;
    case Kind::Int: runtime::append_json_int(out, v.as_int()); break;
    case Kind::Float: append_float(out, v.as_float()); break;
    case Kind::String: runtime::append_json_string(out, v.as_string()); break;
    case Kind::Bool: out += v.as_int() != 0 ? "true" : "false"; break;
    case Kind::Timestamp:
        out += '"';
        runtime::append_rfc3339(out, v.as_int());
        out += '"';
        break;
    case Kind::Duration: // never negative: both decoders refuse that
        out += '"';
        runtime::append_json_int(out, v.as_int());
        out += "us\"";
        break;
    }
}

} // namespace

std::string typed_event_json(const TypedEvent& ev, const ir::RuleSet& rs, std::string_view type_field) {
    const int t = rs.find_event(ev.type());
    const ir::EventType* et = t >= 0 ? &rs.events[static_cast<size_t>(t)] : nullptr;
    // A role is named as the schema names its field (`key`, `time`, `id` for a type `rs` does not declare).
    auto name_of = [&](const TypedEvent::Field& f) -> std::string_view {
        if (f.role == TypedEvent::Role::None) return f.name;
        uint16_t slot = ir::kNoField;
        if (et != nullptr)
            slot = f.role == TypedEvent::Role::Key    ? et->key_field
                   : f.role == TypedEvent::Role::Time ? et->time_field
                                                      : et->id_field;
        return slot != ir::kNoField ? std::string_view(et->fields[slot].name) : role_name(f.role);
    };
    const std::vector<TypedEvent::Field>& fs = ev.fields();
    std::vector<std::string_view> names;
    names.reserve(fs.size());
    for (const TypedEvent::Field& f : fs) names.push_back(name_of(f));
    std::string out = "{";
    runtime::append_json_string(out, type_field);
    out += ':';
    runtime::append_json_string(out, ev.type());
    for (size_t i = 0; i < fs.size(); ++i) {
        // The last value of a name is the one the decoder kept; the member names the type is the type.
        if (names[i] == type_field || std::find(names.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                                names.end(), names[i]) != names.end())
            continue;
        out += ',';
        runtime::append_json_string(out, names[i]);
        out += ':';
        append_value(out, fs[i].value);
    }
    out += '}';
    return out;
}

} // namespace ethogram::embed
