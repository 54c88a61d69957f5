// record.cpp: canonical encoding, strict parsing and signature checks of signed records.
#include "govern/record.h"

#include "runtime/json_writer.h"

#include <fmt/format.h>
#include <simdjson.h>

namespace ethogram::govern {

namespace {

using runtime::append_json_string;

void append_field(std::string& out, const Field& f) {
    append_json_string(out, f.key);
    out.push_back(':');
    if (f.is_num)
        out += std::to_string(f.num);
    else
        append_json_string(out, f.str);
}

} // namespace

const std::string& SignedRecord::get(std::string_view k) const {
    static const std::string empty;
    for (const auto& f : fields)
        if (f.key == k && !f.is_num) return f.str;
    return empty;
}

uint64_t SignedRecord::num(std::string_view k) const {
    for (const auto& f : fields)
        if (f.key == k && f.is_num) return f.num;
    return 0;
}

std::string record_body(const SignedRecord& r) {
    std::string out = "{";
    for (const auto& f : r.fields) {
        append_field(out, f);
        out.push_back(',');
    }
    append_field(out, Field::s(r.who_field, r.who));
    out.push_back(',');
    append_field(out, Field::s("key", to_hex(r.key)));
    out.push_back('}');
    return out;
}

std::string encode_record(const SignedRecord& r) {
    std::string out = record_body(r);
    out.pop_back();
    out += ",\"hash\":\"" + to_hex(r.hash) + "\",\"sig\":\"" + to_hex(r.sig) + "\"}";
    return out;
}

SignedRecord make_record(std::string_view purpose, std::vector<Field> fields, const KeyPair& k,
                         std::string who_field) {
    SignedRecord r;
    r.fields = std::move(fields);
    r.who_field = std::move(who_field);
    r.who = k.name;
    r.key = k.pk;
    r.hash = blake2b(record_body(r));
    r.sig = sign_detached(
        k.sk, signing_message(purpose,
                              std::string_view(reinterpret_cast<const char*>(r.hash.data()), r.hash.size())));
    return r;
}

Expected<SignedRecord> parse_record(std::string_view line, const std::string& where,
                                    const std::string& who_field) {
    auto bad = [&](const std::string& what) { return fail(Code::Corrupt, where + ": " + what); };
    simdjson::dom::parser parser;
    simdjson::padded_string padded(line);
    simdjson::dom::object obj;
    if (auto err = parser.parse(padded).get(obj); err)
        return bad(std::string("not a JSON object: ") + simdjson::error_message(err));
    std::vector<Field> all;
    for (auto [k, v] : obj) {
        Field f;
        f.key = std::string(k);
        std::string_view s;
        uint64_t n = 0;
        if (!v.get(s)) {
            f.str = std::string(s);
        } else if (!v.get(n)) {
            f.is_num = true;
            f.num = n;
        } else {
            return bad("field `" + f.key + "` is neither a string nor an unsigned number");
        }
        all.push_back(std::move(f));
    }
    size_t n = all.size();
    if (n < 4 || all[n - 4].key != who_field || all[n - 3].key != "key" || all[n - 2].key != "hash" ||
        all[n - 1].key != "sig")
        return bad(fmt::format("a signed record ends with `{}`, `key`, `hash` and `sig`", who_field));
    SignedRecord r;
    r.who_field = who_field;
    r.who = all[n - 4].str;
    auto pk = from_hex<32>(all[n - 3].str);
    auto h = from_hex<32>(all[n - 2].str);
    auto sig = from_hex<64>(all[n - 1].str);
    if (!pk || !h || !sig) return bad("`key`, `hash` or `sig` is not hex of the right length");
    r.key = *pk;
    r.hash = *h;
    r.sig = *sig;
    all.resize(n - 4);
    r.fields = std::move(all);
    if (encode_record(r) != line)
        return bad("not in canonical form (edited by hand, or fields reordered, duplicated or added)");
    return r;
}

Status check_record(std::string_view purpose, const SignedRecord& r, const std::string& where) {
    if (blake2b(record_body(r)) != r.hash)
        return fail(Code::Tampered, where + ": the record's content does not match its hash (it was edited)");
    std::string_view h(reinterpret_cast<const char*>(r.hash.data()), r.hash.size());
    if (!verify_detached(r.key, signing_message(purpose, h), r.sig))
        return fail(
            Code::BadSignature,
            fmt::format("{}: the signature of '{}' (key {}) does not verify: it was altered, or made by "
                        "another key than the one named",
                        where, r.who, fingerprint(r.key)));
    return ok_status();
}

} // namespace ethogram::govern
