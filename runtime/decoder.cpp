// decoder.cpp: JSON line decoding and schema validation with simdjson's DOM parser.
#include "runtime/decoder.h"

#include "runtime/event_finish.h"
#include "runtime/flat_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::runtime {

static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING, "decode in place needs simdjson's padding");

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view json_type_name(JsonType t) {
    switch (t) {
    case JsonType::Array: return "array";
    case JsonType::Object: return "object";
    case JsonType::Int64:
    case JsonType::Uint64: return "integer";
    case JsonType::Double: return "number";
    case JsonType::String: return "string";
    case JsonType::Bool: return "boolean";
    case JsonType::Null: return "null";
    }
    return "?";
}

std::string_view json_type_name(element_type t) {
    switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "?";
}

// What the decoder reads of a DOM element (a member's value).
JsonValue json_value(element v) {
    JsonValue j;
    switch (v.type()) {
    case element_type::ARRAY: j.type = JsonType::Array; break;
    case element_type::OBJECT: j.type = JsonType::Object; break;
    case element_type::INT64:
        j.type = JsonType::Int64;
        j.i = v.get_int64().value_unsafe();
        break;
    case element_type::UINT64:
        j.type = JsonType::Uint64;
        j.u = v.get_uint64().value_unsafe();
        break;
    case element_type::DOUBLE:
        j.type = JsonType::Double;
        j.d = v.get_double().value_unsafe();
        break;
    case element_type::STRING:
        j.type = JsonType::String;
        j.s = v.get_string().value_unsafe();
        break;
    case element_type::BOOL:
        j.type = JsonType::Bool;
        j.b = v.get_bool().value_unsafe();
        break;
    case element_type::NULL_VALUE: j.type = JsonType::Null; break;
    }
    return j;
}

// What each field type accepts, for "expected ..." messages.
std::string_view expected_json(ir::Type t) {
    switch (t) {
    case ir::Type::Int: return "int (a JSON integer)";
    case ir::Type::Float: return "float (a JSON number)";
    case ir::Type::String: return "string";
    case ir::Type::Bool: return "bool (true or false)";
    case ir::Type::Enum: return "enum (a string naming one of its values)";
    case ir::Type::Timestamp: return "timestamp (an RFC 3339 string or epoch number)";
    case ir::Type::Duration: return "duration (a string such as \"250ms\" or a number of milliseconds)";
    case ir::Type::Missing: break;
    }
    return "?";
}

} // namespace

struct Decoder::Impl {
    const ir::RuleSet& rs;
    ir::StringPool& pool;
    DecoderOptions opts;
    simdjson::dom::parser parser;
    std::string padded; // the line plus simdjson's padding, reused
    std::vector<FieldIndex> index;
    // Per event type, the schema's field names in a small open table indexed by a hash of a member
    // name's length and three of its bytes, with a seed chosen so that no two fields share an entry: a
    // member is found by one compare instead of a string hash and a bucket walk (std::hash over the
    // name and a modulo; about a third of decoding's own instructions). An entry two fields would share
    // sends the lookup to the field index.
    struct NameTable {
        struct Entry {
            std::string_view name; ///< a schema field's name; empty: no field hashes here
            uint16_t slot = kIgnored;
        };
        std::vector<Entry> entries;
        uint32_t seed = 0, mask = 0;
        bool collides = false; ///< some entry has two fields (marked with slot kCollides)
    };
    static constexpr uint16_t kIgnored = UINT16_MAX; ///< not a schema field (the type member, extras)
    static constexpr uint16_t kCollides = UINT16_MAX - 1;
    std::vector<NameTable> names;
    NameTable types; // the event types' names (index: the type)
    // Per type, the slot each member position had on the last line of that type (kIgnored: look it up):
    // lines of a type mostly list the same members in the same order, so the member at position i is
    // first compared with the field found there last time, without hashing its name. Positions past
    // kLayoutMembers always look up.
    static constexpr size_t kLayoutMembers = 16;
    std::vector<std::array<uint16_t, kLayoutMembers>> layouts;
    std::vector<uint8_t> seen;
    // The line's members: from the flat scan, or copied from the DOM (never fewer than kFlatMembers).
    std::vector<JsonMember> members = std::vector<JsonMember>(kFlatMembers);
    size_t nmembers = 0;
    uint64_t flat_lines = 0;
    std::string scratch;
    // Deferred interning (decode_deferred / export_deferred): the strings of the event last decoded, in
    // member order (the order decode() interns them in), pointing into the parser's buffers or key_buf /
    // id_buf.
    struct Pending {
        uint16_t slot;
        bool field; ///< also the field's value (false: an int-typed key, only ev.key takes the text)
        std::string_view text;
    };
    bool defer = false;
    std::vector<Pending> pending;
    std::string_view key_text;
    std::string key_buf, id_buf;
    bool int_id = false;

    // A string value: interned now, or recorded for export_deferred() (the value is then kNoString until
    // then).
    uint32_t intern(uint16_t slot, bool field, std::string_view s) {
        if (!defer) return pool.intern(s);
        pending.push_back({slot, field, s});
        return ir::kNoString;
    }

    Impl(const ir::RuleSet& r, ir::StringPool& p, DecoderOptions o)
        : rs(r), pool(p), opts(std::move(o)), index(build_field_index(r)) {
        names.reserve(rs.events.size());
        for (const ir::EventType& et : rs.events)
            names.push_back(
                name_table(et.fields.size(), [&](size_t f) { return std::string_view(et.fields[f].name); }));
        types = name_table(rs.events.size(), [&](size_t t) { return std::string_view(rs.events[t].name); });
        std::array<uint16_t, kLayoutMembers> none;
        none.fill(kIgnored);
        layouts.assign(rs.events.size(), none);
    }

    static uint32_t name_hash(std::string_view s, uint32_t seed) {
        const size_t n = s.size();
        const uint32_t h = static_cast<uint32_t>(n) * 0x9E3779B1u ^
                           static_cast<unsigned char>(s[0]) * 0x85EBCA77u ^
                           static_cast<unsigned char>(s[n / 2]) * 0xC2B2AE3Du ^
                           static_cast<unsigned char>(s[n - 1]) * 0x27D4EB2Fu;
        return (h ^ seed) * 0x165667B1u >> 16;
    }

    // A table over `count` names (name(i) the i-th); a name that cannot be hashed (empty) or two names
    // that share an entry under every seed tried leave the table marked `collides`.
    template <class Name>
    static NameTable name_table(size_t count, Name name) {
        NameTable t;
        uint32_t size = 16;
        while (size < 4 * count) size *= 2;
        t.mask = size - 1;
        if (count >= kCollides) { // more names than slots: every lookup goes the slow way
            t.collides = true;
            t.entries.assign(1, {std::string_view(), kCollides});
            t.mask = 0;
            return t;
        }
        // Try a few seeds for an entry per name; keep the last (with collisions marked) if none has.
        for (uint32_t seed = 0; seed < 64; ++seed) {
            t.seed = seed * 0x9E3779B9u;
            t.entries.assign(size, {});
            t.collides = false;
            for (size_t f = 0; f < count; ++f) {
                const std::string_view n = name(f);
                if (n.empty()) { // cannot be hashed (never from the front end): always the slow way
                    t.collides = true;
                    continue;
                }
                NameTable::Entry& e = t.entries[name_hash(n, t.seed) & t.mask];
                if (e.slot == kIgnored) {
                    e = {n, static_cast<uint16_t>(f)};
                } else {
                    e.slot = kCollides;
                    t.collides = true;
                }
            }
            if (!t.collides) break;
        }
        return t;
    }

    // `name`'s index in `nt`: kIgnored when no name of the table is `name`, kCollides when only the slow
    // way can tell.
    static uint16_t lookup(const NameTable& nt, std::string_view name) {
        if (name.empty()) return nt.collides ? kCollides : kIgnored;
        const NameTable::Entry& e = nt.entries[name_hash(name, nt.seed) & nt.mask];
        if (e.slot == kCollides) return kCollides;
        return e.slot != kIgnored && same_text(e.name, name) ? e.slot : kIgnored;
    }

    // The event type named `name` (RuleSet::find_event's answer), -1 when none.
    int event_type(std::string_view name) const {
        const uint16_t t = lookup(types, name);
        if (t == kCollides) return rs.find_event(name);
        return t == kIgnored ? -1 : t;
    }

    // The slot of the member `name` of an event of type `t`, kIgnored when the schema has no such field.
    uint16_t member_slot(int t, std::string_view name) const {
        const NameTable& nt = names[static_cast<size_t>(t)];
        const uint16_t slot = lookup(nt, name);
        if (slot != kCollides) return slot;
        const FieldIndex& idx = index[static_cast<size_t>(t)];
        auto it = idx.find(name);
        return it == idx.end() ? kIgnored : it->second;
    }

    bool bad_type(DecodeError& err, const ir::EventType& et, const ir::FieldDef& fd, const JsonValue& v) {
        return decode_fail(err, DeadReason::BadField,
                           fmt::format("{}.{}: expected {}, got {}", et.name, fd.name, expected_json(fd.type),
                                       json_type_name(v.type)));
    }

    // Decodes one member into `out`; false (with `err`) when it does not fit the field. The usual cases
    // here, inlined into the member loop; null, the rest and every error in field_all.
    bool field(DecodeError& err, const ir::EventType& et, uint16_t slot, const JsonValue& v, ir::Value& out) {
        const ir::FieldDef& fd = et.fields[slot];
        switch (fd.type) {
        case ir::Type::Int:
            if (v.type != JsonType::Int64) break;
            out = ir::Value::integer(v.i);
            return true;
        case ir::Type::Float:
            if (v.type != JsonType::Double && v.type != JsonType::Int64) break;
            out = ir::Value::real(v.as_double());
            return true;
        case ir::Type::String:
            if (v.type != JsonType::String) break;
            out = ir::Value::string(intern(slot, true, v.s));
            return true;
        case ir::Type::Bool:
            if (v.type != JsonType::Bool) break;
            out = ir::Value::boolean(v.b);
            return true;
        case ir::Type::Enum:
            if (v.type != JsonType::String) break;
            // The first value of that name, as enum_value finds it (which also gives the error text).
            for (size_t i = 0; i < fd.enum_values.size(); ++i) {
                if (same_text(fd.enum_values[i], v.s)) {
                    out = ir::Value::enumeration(static_cast<int64_t>(i));
                    return true;
                }
            }
            return enum_value(et, fd, v.s, out, err);
        case ir::Type::Timestamp: {
            if (v.type != JsonType::Int64) break;
            int64_t us = 0;
            if (!epoch_int_micros(v.i, opts.epoch_unit, us)) break;
            out = ir::Value::timestamp(us);
            return true;
        }
        default: break;
        }
        return field_all(err, et, slot, v, out);
    }

    // Every case of field(), with the error texts.
    [[gnu::noinline]] bool field_all(DecodeError& err, const ir::EventType& et, uint16_t slot,
                                     const JsonValue& v, ir::Value& out) {
        const ir::FieldDef& fd = et.fields[slot];
        const JsonType jt = v.type;
        if (jt == JsonType::Null) {
            if (fd.optional) {
                out = ir::Value::missing();
                return true;
            }
            return decode_fail(err, DeadReason::MissingField,
                               fmt::format("{}.{}: required field is null", et.name, fd.name));
        }
        switch (fd.type) {
        case ir::Type::Int:
            if (jt == JsonType::Int64) {
                out = ir::Value::integer(v.i);
                return true;
            }
            if (jt == JsonType::Uint64)
                return decode_fail(
                    err, DeadReason::BadField,
                    fmt::format("{}.{}: integer {} out of the int64 range", et.name, fd.name, v.u));
            return bad_type(err, et, fd, v);
        case ir::Type::Float:
            if (jt != JsonType::Int64 && jt != JsonType::Uint64 && jt != JsonType::Double)
                return bad_type(err, et, fd, v);
            out = ir::Value::real(v.as_double());
            return true;
        case ir::Type::String:
            if (jt != JsonType::String) return bad_type(err, et, fd, v);
            out = ir::Value::string(intern(slot, true, v.s));
            return true;
        case ir::Type::Bool:
            if (jt != JsonType::Bool) return bad_type(err, et, fd, v);
            out = ir::Value::boolean(v.b);
            return true;
        case ir::Type::Enum: {
            if (jt != JsonType::String) return bad_type(err, et, fd, v);
            return enum_value(et, fd, v.s, out, err);
        }
        case ir::Type::Timestamp: {
            Expected<int64_t> t = Error{};
            if (jt == JsonType::String)
                t = parse_rfc3339(v.s);
            else if (jt == JsonType::Int64)
                t = epoch_to_micros(v.i, opts.epoch_unit);
            else if (jt == JsonType::Uint64 || jt == JsonType::Double)
                t = epoch_to_micros(v.as_double(), opts.epoch_unit);
            else
                return decode_fail(err, DeadReason::BadTime,
                                   fmt::format("{}.{}: expected {}, got {}", et.name, fd.name,
                                               expected_json(fd.type), json_type_name(jt)));
            if (!t)
                return decode_fail(err, DeadReason::BadTime,
                                   fmt::format("{}.{}: {}", et.name, fd.name, t.error()));
            out = ir::Value::timestamp(*t);
            return true;
        }
        case ir::Type::Duration: {
            Expected<int64_t> d = Error{};
            if (jt == JsonType::String)
                d = parse_duration(v.s);
            else if (jt == JsonType::Int64 || jt == JsonType::Uint64 || jt == JsonType::Double)
                d = duration_from_millis(v.as_double());
            else
                return bad_type(err, et, fd, v);
            if (!d)
                return decode_fail(err, DeadReason::BadField,
                                   fmt::format("{}.{}: {}", et.name, fd.name, d.error()));
            out = ir::Value::duration(*d);
            return true;
        }
        case ir::Type::Missing: break;
        }
        return decode_fail(err, DeadReason::BadField,
                           fmt::format("{}.{}: field has no type in the schema", et.name, fd.name));
    }

    // The key: a string, or an integer interned as decimal text.
    bool key(DecodeError& err, const ir::EventType& et, const JsonValue& v, ir::Event& ev) {
        const ir::FieldDef& fd = et.fields[et.key_field];
        const JsonType jt = v.type;
        if (jt == JsonType::Null)
            return decode_fail(err, DeadReason::MissingField,
                               fmt::format("{}.{}: the key is null", et.name, fd.name));
        if (jt == JsonType::String && fd.type == ir::Type::String) {
            key_text = v.s;
            ev.key = intern(et.key_field, true, key_text);
            ev.fields[et.key_field] = ir::Value::string(ev.key);
            return true;
        }
        if (jt == JsonType::Int64) {
            const int64_t n = v.i;
            key_buf.clear();
            fmt::format_to(std::back_inserter(key_buf), "{}", n);
            key_text = key_buf;
            const bool is_int = fd.type == ir::Type::Int;
            ev.key = intern(et.key_field, !is_int, key_text);
            ev.fields[et.key_field] = is_int ? ir::Value::integer(n) : ir::Value::string(ev.key);
            return true;
        }
        return decode_fail(err, DeadReason::BadField,
                           fmt::format("{}.{}: expected the key as {}, got {}", et.name, fd.name,
                                       fd.type == ir::Type::Int ? "a JSON integer" : "a string or integer",
                                       json_type_name(jt)));
    }

    bool decode(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev, bool in_place) {
        // The common line, a flat object of plain members, is split by one scan; whatever the scan declines
        // is parsed by simdjson's DOM, which gives the verdicts and texts of malformed lines.
        if (!opts.dom_only) {
            const int n = scan_flat_object(line, members.data(), kFlatMembers);
            if (n >= 0) {
                nmembers = static_cast<size_t>(n);
                ++flat_lines;
                return decode_members(err, line_no, ev);
            }
        }
        const char* text = line.data();
        if (!in_place) {
            padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
            std::copy(line.begin(), line.end(), padded.begin());
            text = padded.data();
        }
        element doc;
        auto perr = parser.parse(text, line.size(), false).get(doc);
        if (perr)
            return decode_fail(err, DeadReason::ParseError,
                               fmt::format("invalid JSON: {}", simdjson::error_message(perr)));
        simdjson::dom::object obj;
        if (doc.get_object().get(obj))
            return decode_fail(err, DeadReason::ParseError,
                               fmt::format("expected a JSON object, got {}", json_type_name(doc.type())));
        nmembers = 0;
        for (auto member : obj) {
            if (nmembers == members.size()) members.resize(2 * nmembers);
            members[nmembers++] = JsonMember{member.key, json_value(member.value)};
        }
        return decode_members(err, line_no, ev);
    }

    // The members of a JSON object (in order, duplicates kept) -> the event.
    bool decode_members(DecodeError& err, uint64_t line_no, ir::Event& ev) {
        // The type member: the first of that name (what the DOM's at_key finds).
        const JsonMember* const first = members.data();
        const JsonMember* const last = first + nmembers;
        const JsonValue* tv = nullptr;
        for (const JsonMember* m = first; m != last; ++m) {
            if (same_text(m->key, opts.type_field)) {
                tv = &m->value;
                break;
            }
        }
        if (tv == nullptr)
            return decode_fail(err, DeadReason::MissingType,
                               fmt::format("no \"{}\" member naming the event type", opts.type_field));
        if (tv->type != JsonType::String)
            return decode_fail(err, DeadReason::MissingType,
                               fmt::format("\"{}\" must be a string naming the event type, got {}",
                                           opts.type_field, json_type_name(tv->type)));
        const std::string_view tname = tv->s;
        const int t = event_type(tname);
        if (t < 0)
            return decode_fail(err, DeadReason::UnknownType, fmt::format("unknown event type \"{}\"", tname));
        const ir::EventType& et = rs.events[t];

        begin_event(rs, t, line_no, ev, seen);
        pending.clear();
        key_text = {};
        int_id = false;

        std::array<uint16_t, kLayoutMembers>& layout = layouts[static_cast<size_t>(t)];
        for (const JsonMember* m = first; m != last; ++m) {
            const JsonMember& member = *m;
            const auto pos = static_cast<size_t>(m - first);
            uint16_t slot = kIgnored;
            if (pos < kLayoutMembers) {
                const uint16_t guess = layout[pos];
                if (guess != kIgnored && same_text(et.fields[guess].name, member.key)) {
                    slot = guess;
                } else {
                    slot = member_slot(t, member.key);
                    layout[pos] = slot;
                }
            } else {
                slot = member_slot(t, member.key);
            }
            if (slot == kIgnored) continue; // unknown members (and the type field) are ignored
            seen[slot] = 1;
            if (slot == et.key_field) {
                if (!key(err, et, member.value, ev)) return false;
            } else if (!field(err, et, slot, member.value, ev.fields[slot])) {
                return false;
            }
        }
        // Deferred: an integer id's text waits in id_buf for export_deferred() (string ids are pending
        // already).
        if (!finish_event(et, seen, defer ? nullptr : &pool, id_buf, ev, err)) return false;
        int_id = defer && et.id_field != ir::kNoField && ev.fields[et.id_field].type == ir::Type::Int;
        return true;
    }
    // What decode_deferred recorded, copied out in the order decode() interns it.
    void export_to(std::string& arena, std::vector<DeferredString>& out) const {
        auto add = [&](std::string_view text, uint16_t slot, DeferredString::Kind kind) {
            out.push_back(DeferredString{arena.size(), text.size(), slot, kind});
            arena.append(text);
        };
        for (const Pending& p : pending)
            add(p.text, p.slot, p.field ? DeferredString::Field : DeferredString::KeyOnly);
        if (int_id) add(id_buf, 0, DeferredString::IntId);
    }
};

Decoder::Decoder(const ir::RuleSet& rs, ir::StringPool& pool, DecoderOptions opts)
    : impl_(std::make_unique<Impl>(rs, pool, std::move(opts))) {}

Decoder::~Decoder() = default;

bool Decoder::decode(std::string_view line, uint64_t line_no, ir::Event& out) {
    impl_->defer = false;
    return impl_->decode(error_, line, line_no, out, false);
}

bool Decoder::decode_deferred(std::string_view line, uint64_t line_no, ir::Event& out, bool padded) {
    impl_->defer = true;
    return impl_->decode(error_, line, line_no, out, padded);
}

uint64_t Decoder::flat_lines() const {
    return impl_->flat_lines;
}

std::string_view Decoder::key_text() const {
    return impl_->key_text;
}

void Decoder::export_deferred(std::string& arena, std::vector<DeferredString>& out) const {
    impl_->export_to(arena, out);
}

void Decoder::commit_exported(const ir::RuleSet& rs, ir::StringPool& pool, std::string_view arena,
                              const DeferredString* first, const DeferredString* last, ir::Event& ev) {
    const ir::EventType& et = rs.events[ev.type];
    for (const DeferredString* s = first; s != last; ++s) {
        const uint32_t id = pool.intern(arena.substr(s->offset, s->size));
        switch (s->kind) {
        case DeferredString::IntId: ev.id = id; break;
        case DeferredString::Field:
            ev.fields[s->slot] = ir::Value::string(id);
            if (s->slot == et.key_field) ev.key = id;
            break;
        case DeferredString::KeyOnly: ev.key = id; break;
        }
    }
    // A string id is a field: its value was interned above.
    if (et.id_field != ir::kNoField && ev.fields[et.id_field].type == ir::Type::String)
        ev.id = static_cast<uint32_t>(ev.fields[et.id_field].i);
}

} // namespace ethogram::runtime
