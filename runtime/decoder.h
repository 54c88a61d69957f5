// decoder.h: one JSON line -> a validated ir::Event (simdjson), or the reason it is a dead letter.
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/ir.h"
#include "runtime/dead_letter.h"
#include "runtime/time.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ethogram::runtime {

struct DecoderOptions {
    std::string type_field = "type"; ///< the JSON member naming the event type
    EpochUnit epoch_unit = EpochUnit::Millis;
    /// Every line through simdjson's DOM parser, never the flat-object scan (runtime/flat_json.h): the
    /// reference the tests compare the scan against. Verdicts, events and texts are the same either way.
    bool dom_only = false;
};

/// Why a line was rejected: the dead-letter reason and a human-readable detail naming the field.
struct DecodeError {
    DeadReason reason = DeadReason::ParseError;
    std::string detail;
};

/// Readable bytes a caller of Decoder::decode_deferred(..., padded = true) guarantees after the line (what
/// simdjson may read past the end of its input).
inline constexpr size_t kLinePadding = 64;

/// A string of an event decoded by Decoder::decode_deferred, copied out by export_deferred() so that the
/// event can be committed later, on another thread, after the decoder has moved on to other lines.
struct DeferredString {
    enum Kind : uint8_t {
        KeyOnly, ///< an int-typed key's decimal text: only ev.key takes it
        Field,   ///< a string field's value (and ev.key too when `slot` is the key field)
        IntId,   ///< an integer id's decimal text: ev.id takes it
    };
    size_t offset = 0, size = 0; ///< the text, in the arena it was exported to (or in the source)
    uint16_t slot = 0;
    Kind kind = Field;
    bool in_source = false; ///< the text is in the source the line was decoded from, not in the arena
};

/// Decodes JSON lines against the rule set's event schemas. Validation rules:
///  - the line must be a JSON object (else parse_error);
///  - it must have the type field, a string (else missing_type) naming a declared event (unknown_type);
///  - every required field must be present and non-null (missing_field); optional fields that are absent
///    or null become Value::missing();
///  - each value must fit its field's type (bad_field, naming field and expected type): int takes JSON
///    integers only (in int64 range); float takes any number; string takes strings; bool takes true/false;
///    enum takes one of its value names (stored as its index); duration takes a string ("250ms") or a
///    number of milliseconds; timestamp takes an RFC 3339 string or an epoch number (bad_time when it
///    does not parse);
///  - the key field may be a string or an integer; for a `string` key an integer is accepted and
///    interned as its decimal text (numeric user ids are common);
///  - members that are not schema fields (besides the type field) are ignored, so producers may add data.
/// The decoder reuses its parser and buffers across lines; strings are interned into `pool`.
class Decoder {
public:
    Decoder(const ir::RuleSet& rs, ir::StringPool& pool, DecoderOptions opts = {});
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    /// Decodes `line` into `out` (fields, type, key, time, id, line; `seq` is left to the caller).
    /// Returns false on a dead letter, with the reason in error().
    bool decode(std::string_view line, uint64_t line_no, ir::Event& out);
    const DecodeError& error() const { return error_; }
    /// Lines decoded so far through the flat-object scan rather than simdjson's DOM (for tests).
    uint64_t flat_lines() const;

    /// Validates `line` exactly as decode() does but interns nothing yet: string fields, `key` and `id` of
    /// `out` stay unset until commit_exported(). For the parallel runtime, where a line is validated by
    /// whichever shard claims it and committed by the shard that owns its key (export_deferred,
    /// commit_exported).
    /// With `padded`, at least kLinePadding bytes after `line` are readable (their contents do not matter)
    /// and the line is parsed where it is, not copied first.
    bool decode_deferred(std::string_view line, uint64_t line_no, ir::Event& out, bool padded = false);
    /// The key's text of the event last decoded (an integer key as its decimal text); valid until the next
    /// decode.
    std::string_view key_text() const;
    /// After a decode_deferred that returned true: appends the strings to intern (in the order decode()
    /// interns them) to `out`, their text to `arena`; except a string that is a range of `source` as it
    /// stands (the line's text held in a buffer that outlives the commit, and the string unescaped), which
    /// is recorded as that range (`in_source`), not copied.
    void export_deferred(std::string& arena, std::vector<DeferredString>& out,
                         std::string_view source = {}) const;
    /// Commits exported strings [first, last) whose text is in `arena` (or in `source`, the same source
    /// they were exported with): interns them into `pool` and sets them in `ev` (decoded by decode_deferred
    /// under `rs`). Needs no decoder, so any thread that owns `pool` may commit an event another thread
    /// decoded.
    static void commit_exported(const ir::RuleSet& rs, ir::StringPool& pool, std::string_view arena,
                                const DeferredString* first, const DeferredString* last, ir::Event& ev,
                                std::string_view source = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    DecodeError error_;
};

} // namespace ethogram::runtime
