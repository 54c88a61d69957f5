// typed_event.cpp: TypedEvent -> ir::Event with the JSON decoder's validation rules, value kind by value kind
// (the JSON decoder's table in runtime/decoder.h, with typed timestamps and durations added).
#include "embed/typed_event.h"

#include <fmt/format.h>

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

bool fail(DecodeError& err, DeadReason r, std::string detail) {
    err.reason = r;
    err.detail = std::move(detail);
    return false;
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
    : rs_(rs), pool_(pool), unit_(unit) {
    index_.resize(rs_.events.size());
    for (size_t t = 0; t < rs_.events.size(); ++t)
        for (size_t f = 0; f < rs_.events[t].fields.size(); ++f)
            index_[t].emplace(rs_.events[t].fields[f].name, static_cast<uint16_t>(f));
}

bool TypedDecoder::field(DecodeError& err, const ir::EventType& et, uint16_t slot, const FieldValue& v,
                         ir::Value& out) {
    const ir::FieldDef& fd = et.fields[slot];
    const Kind k = v.kind();
    if (k == Kind::Null) {
        if (fd.optional) {
            out = ir::Value::missing();
            return true;
        }
        return fail(err, DeadReason::MissingField,
                    fmt::format("{}.{}: required field is null", et.name, fd.name));
    }
    auto bad = [&](DeadReason r = DeadReason::BadField) {
        return fail(
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
        const std::string& s = v.as_string();
        for (size_t i = 0; i < fd.enum_values.size(); ++i) {
            if (fd.enum_values[i] == s) {
                out = ir::Value::enumeration(static_cast<int64_t>(i));
                return true;
            }
        }
        return fail(err, DeadReason::BadField,
                    fmt::format("{}.{}: \"{}\" is not a value of the enum (expected one of: {})", et.name,
                                fd.name, s, fmt::join(fd.enum_values, ", ")));
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
        if (!t) return fail(err, DeadReason::BadTime, fmt::format("{}.{}: {}", et.name, fd.name, t.error()));
        out = ir::Value::timestamp(*t);
        return true;
    }
    case ir::Type::Duration: {
        Expected<int64_t> d = Error{};
        if (k == Kind::Duration)
            d = v.as_int();
        else if (k == Kind::String)
            d = runtime::parse_duration(v.as_string());
        else if (k == Kind::Int)
            d = runtime::duration_from_millis(double(v.as_int()));
        else if (k == Kind::Float)
            d = runtime::duration_from_millis(v.as_float());
        else
            return bad();
        if (!d) return fail(err, DeadReason::BadField, fmt::format("{}.{}: {}", et.name, fd.name, d.error()));
        out = ir::Value::duration(*d);
        return true;
    }
    case ir::Type::Missing: break;
    }
    return fail(err, DeadReason::BadField,
                fmt::format("{}.{}: field has no type in the schema", et.name, fd.name));
}

// The key: a string, or an integer interned as decimal text (the JSON decoder's rule).
bool TypedDecoder::key(DecodeError& err, const ir::EventType& et, const FieldValue& v, ir::Event& ev) {
    const ir::FieldDef& fd = et.fields[et.key_field];
    const Kind k = v.kind();
    if (k == Kind::Null)
        return fail(err, DeadReason::MissingField, fmt::format("{}.{}: the key is null", et.name, fd.name));
    if (k == Kind::String && fd.type == ir::Type::String) {
        ev.key = pool_.intern(v.as_string());
        ev.fields[et.key_field] = ir::Value::string(ev.key);
        return true;
    }
    if (k == Kind::Int) {
        scratch_.clear();
        fmt::format_to(std::back_inserter(scratch_), "{}", v.as_int());
        ev.key = pool_.intern(scratch_);
        ev.fields[et.key_field] =
            fd.type == ir::Type::Int ? ir::Value::integer(v.as_int()) : ir::Value::string(ev.key);
        return true;
    }
    return fail(err, DeadReason::BadField,
                fmt::format("{}.{}: expected the key as {}, got {}", et.name, fd.name,
                            fd.type == ir::Type::Int ? "an int" : "a string or int", kind_name(k)));
}

bool TypedDecoder::decode(const TypedEvent& in, uint64_t line_no, ir::Event& ev, DecodeError& err) {
    if (in.type().empty()) return fail(err, DeadReason::MissingType, "no event type given");
    const int t = rs_.find_event(in.type());
    if (t < 0) return fail(err, DeadReason::UnknownType, fmt::format("unknown event type \"{}\"", in.type()));
    const ir::EventType& et = rs_.events[t];
    const auto& idx = index_[t];

    ev.type = static_cast<uint16_t>(t);
    ev.line = line_no;
    ev.key = ir::kNoString;
    ev.id = ir::kNoString;
    ev.time = 0;
    ev.fields.assign(et.fields.size(), ir::Value::missing());
    seen_.assign(et.fields.size(), 0);

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
            return fail(err, DeadReason::BadField,
                        fmt::format("{}: the event has no {} field", et.name, role_name(f.role)));
        seen_[slot] = 1;
        if (slot == et.key_field) {
            if (!key(err, et, f.value, ev)) return false;
        } else if (!field(err, et, slot, f.value, ev.fields[slot])) {
            return false;
        }
    }
    for (size_t f = 0; f < et.fields.size(); ++f)
        if (!seen_[f] && !et.fields[f].optional)
            return fail(err, DeadReason::MissingField,
                        fmt::format("{}.{}: missing required field", et.name, et.fields[f].name));
    if (et.time_field != ir::kNoField) {
        const ir::Value& tval = ev.fields[et.time_field];
        if (tval.is_missing())
            return fail(err, DeadReason::MissingField,
                        fmt::format("{}.{}: missing event time", et.name, et.fields[et.time_field].name));
        ev.time = tval.i;
    }
    if (et.id_field != ir::kNoField) {
        const ir::Value& id = ev.fields[et.id_field];
        if (id.type == ir::Type::String) {
            ev.id = static_cast<uint32_t>(id.i);
        } else if (id.type == ir::Type::Int) {
            scratch_.clear();
            fmt::format_to(std::back_inserter(scratch_), "{}", id.i);
            ev.id = pool_.intern(scratch_);
        }
    }
    return true;
}

} // namespace ethogram::embed
