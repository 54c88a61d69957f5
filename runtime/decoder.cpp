// decoder.cpp: JSON line decoding and schema validation: the name tables, the member loop over a line's
// members (from the flat scan or simdjson's DOM), the field checks and their dead-letter texts, the public
// API. The DOM's parse is decoder_dom.cpp; the usual line's fused scan decoder_flat.cpp.
#include "runtime/decoder_impl.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ethogram::runtime {

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

Decoder::Impl::Impl(const ir::RuleSet& r, ir::StringPool& p, DecoderOptions o)
    : rs(r), pool(p), opts(std::move(o)), index(build_field_index(r)) {
    type_plain = plain_name(opts.type_field);
    names.reserve(rs.events.size());
    for (const ir::EventType& et : rs.events)
        names.push_back(
            name_table(et.fields.size(), [&](size_t f) { return std::string_view(et.fields[f].name); }));
    types = name_table(rs.events.size(), [&](size_t t) { return std::string_view(rs.events[t].name); });
    std::array<uint16_t, kLayoutMembers> none;
    none.fill(kIgnored);
    layouts.assign(rs.events.size(), none);
    flat_layouts.assign(rs.events.size(), none);
    flat_types.resize(rs.events.size());
    for (size_t t = 0; t < rs.events.size(); ++t) {
        const ir::EventType& et = rs.events[t];
        FlatType& ft = flat_types[t];
        ft.fits = et.fields.size() <= 64;
        for (size_t f = 0; f < et.fields.size() && ft.fits; ++f)
            if (!et.fields[f].optional) ft.required |= uint64_t{1} << f;
    }
    member_tokens.resize(rs.events.size());
    for (size_t t = 0; t < rs.events.size(); ++t)
        for (const ir::FieldDef& fd : rs.events[t].fields)
            member_tokens[t].push_back(plain_name(fd.name) ? "\"" + fd.name + "\":" : std::string());
}

// A table over `count` names (name(i) the i-th); a name that cannot be hashed (empty) or two names
// that share an entry under every seed tried leave the table marked `collides`.
template <class Name>
Decoder::Impl::NameTable Decoder::Impl::name_table(size_t count, Name name) {
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

bool Decoder::Impl::bad_type(DecodeError& err, const ir::EventType& et, const ir::FieldDef& fd,
                             const JsonValue& v) {
    return decode_fail(err, DeadReason::BadField,
                       fmt::format("{}.{}: expected {}, got {}", et.name, fd.name, expected_json(fd.type),
                                   json_type_name(v.type)));
}

// Every case of field(), with the error texts.
bool Decoder::Impl::field_all(DecodeError& err, const ir::EventType& et, uint16_t slot, const JsonValue& v,
                              ir::Value& out) {
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
bool Decoder::Impl::key(DecodeError& err, const ir::EventType& et, const JsonValue& v, ir::Event& ev) {
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

bool Decoder::Impl::decode(DecodeError& err, std::string_view line, uint64_t line_no, ir::Event& ev,
                           bool in_place) {
    // The usual line (a flat object of plain members, the type first) is decoded in the one fused scan;
    // any other flat object of plain members is split by the flat scan and then decoded; whatever both
    // decline is parsed by simdjson's DOM, which gives the verdicts and texts of malformed lines.
    if (!opts.dom_only) {
        record = true;
        const Flat f = decode_flat(err, line, line_no, ev);
        record = defer;
        if (f == Flat::Decoded) return true;
        const int n = scan_flat_object(line, members.data(), kFlatMembers);
        if (n >= 0) {
            nmembers = static_cast<size_t>(n);
            ++flat_lines;
            return decode_members(err, line_no, ev);
        }
    }
    return decode_dom(err, line, line_no, ev, in_place);
}

// The members of a JSON object (in order, duplicates kept) -> the event.
bool Decoder::Impl::decode_members(DecodeError& err, uint64_t line_no, ir::Event& ev) {
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
void Decoder::Impl::export_to(std::string& arena, std::vector<DeferredString>& out,
                              std::string_view source) const {
    // Addresses compared as integers: a string of the line parsed in place lies inside `source`; an
    // unescaped copy or an integer's text (in the decoder's buffers) does not.
    const auto lo = reinterpret_cast<uintptr_t>(source.data());
    const uintptr_t hi = lo + source.size();
    auto add = [&](std::string_view text, uint16_t slot, DeferredString::Kind kind) {
        const auto at = reinterpret_cast<uintptr_t>(text.data());
        if (!source.empty() && at >= lo && at <= hi && text.size() <= hi - at) {
            out.push_back(DeferredString{at - lo, text.size(), slot, kind, true});
            return;
        }
        out.push_back(DeferredString{arena.size(), text.size(), slot, kind, false});
        arena.append(text);
    };
    for (const Pending& p : pending)
        add(p.text, p.slot, p.field ? DeferredString::Field : DeferredString::KeyOnly);
    if (int_id) add(id_buf, 0, DeferredString::IntId);
}

Decoder::Decoder(const ir::RuleSet& rs, ir::StringPool& pool, DecoderOptions opts)
    : impl_(std::make_unique<Impl>(rs, pool, std::move(opts))) {}

Decoder::~Decoder() = default;

bool Decoder::decode(std::string_view line, uint64_t line_no, ir::Event& out) {
    impl_->defer = impl_->record = false;
    return impl_->decode(error_, line, line_no, out, false);
}

bool Decoder::decode_deferred(std::string_view line, uint64_t line_no, ir::Event& out, bool padded) {
    impl_->defer = impl_->record = true;
    return impl_->decode(error_, line, line_no, out, padded);
}

uint64_t Decoder::flat_lines() const {
    return impl_->flat_lines;
}

std::string_view Decoder::key_text() const {
    return impl_->key_text;
}

void Decoder::export_deferred(std::string& arena, std::vector<DeferredString>& out,
                              std::string_view source) const {
    impl_->export_to(arena, out, source);
}

void Decoder::commit_exported(const ir::RuleSet& rs, ir::StringPool& pool, std::string_view arena,
                              const DeferredString* first, const DeferredString* last, ir::Event& ev,
                              std::string_view source) {
    const ir::EventType& et = rs.events[ev.type];
    for (const DeferredString* s = first; s != last; ++s) {
        const char* base = s->in_source ? source.data() : arena.data();
        const uint32_t id = pool.intern(std::string_view(base + s->offset, s->size));
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
