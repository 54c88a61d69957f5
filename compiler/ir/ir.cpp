// ir.cpp: small queries over the IR and the string pool.
#include "compiler/ir/ir.h"
#include "compiler/ir/event.h"

#include <cassert>
#include <cstring>

namespace ethogram::ir {

std::string_view type_name(Type t) {
    switch (t) {
    case Type::Missing: return "missing";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::Enum: return "enum";
    case Type::Timestamp: return "timestamp";
    case Type::Duration: return "duration";
    }
    return "?";
}

std::string_view model_kind_name(ModelKind k) {
    switch (k) {
    case ModelKind::Markov: return "markov";
    case ModelKind::Hmm: return "hmm";
    case ModelKind::Classifier: return "classifier";
    }
    return "?";
}

std::string_view model_fn_name(ModelFn f) {
    switch (f) {
    case ModelFn::Evidence: return "evidence";
    case ModelFn::Confident: return "confident";
    case ModelFn::Surprise: return "surprise";
    case ModelFn::LogLik: return "loglik";
    case ModelFn::PredictNext: return "predict_next";
    case ModelFn::PredictProb: return "predict_prob";
    case ModelFn::NextProb: return "next_prob";
    case ModelFn::HiddenState: return "hidden_state";
    case ModelFn::StateProb: return "state_prob";
    case ModelFn::ClassProb: return "class_prob";
    case ModelFn::PredictedClass: return "predicted_class";
    }
    return "?";
}

std::string_view severity_name(Severity s) {
    switch (s) {
    case Severity::Info: return "info";
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
    }
    return "?";
}

std::string_view op_spelling(Op op) {
    switch (op) {
    case Op::None: return "none";
    case Op::Not: return "not";
    case Op::Neg: return "neg";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
    case Op::In: return "in";
    case Op::NotIn: return "not in";
    }
    return "?";
}

std::string_view aggregate_name(AggKind k) {
    static const char* names[] = {
        "count",       "sum",        "avg",        "min",     "max",        "distinct",
        "first",       "last",       "dwell_time", "entropy", "backtracks", "backtrack_rate",
        "transitions", "burstiness", "gap_mean",   "gap_std", "gap_min",    "gap_max"};
    return names[static_cast<size_t>(k)];
}

int RuleSet::find_event(std::string_view n) const {
    for (size_t i = 0; i < events.size(); ++i)
        if (events[i].name == n) return static_cast<int>(i);
    return -1;
}

int RuleSet::find_taxonomy(std::string_view path) const {
    for (size_t i = 0; i < taxonomy.size(); ++i)
        if (taxonomy[i].path == path) return static_cast<int>(i);
    return -1;
}

bool RuleSet::in_subtree(uint32_t n, uint32_t ancestor) const {
    for (int32_t cur = static_cast<int32_t>(n); cur >= 0; cur = taxonomy[cur].parent)
        if (static_cast<uint32_t>(cur) == ancestor) return true;
    return false;
}

namespace {

constexpr size_t kPoolChunk = 64 * 1024;

uint64_t load64(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

uint64_t load32(const char* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}

__extension__ typedef unsigned __int128 u128; // a GCC and Clang extension (-Wpedantic)

// A 64x64->128 multiply folded to 64 bits (wyhash's mixer).
uint64_t mix(uint64_t a, uint64_t b) {
    const u128 r = static_cast<u128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Whether the `n` bytes at `a` and `b` are the same: inline overlapping word loads for the short texts
// most interned strings are (keys, ids, enum-like values), memcmp past 16 bytes. The call to memcmp and
// its dispatch were about a third of a hit's probe.
inline bool same_bytes(const char* a, const char* b, size_t n) {
    if (n >= 8) {
        if (n > 16) return std::memcmp(a, b, n) == 0;
        return ((load64(a) ^ load64(b)) | (load64(a + n - 8) ^ load64(b + n - 8))) == 0;
    }
    if (n >= 4) return ((load32(a) ^ load32(b)) | (load32(a + n - 4) ^ load32(b + n - 4))) == 0;
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

[[gnu::always_inline]] inline uint32_t pool_hash(std::string_view s) {
    // Eight bytes at a time (wyhash's scheme: a string of 4 to 16 bytes is two overlapping loads), folded:
    // the low bits pick the slot, the whole value screens comparisons. Byte-wise FNV-1a cost about a third
    // of each intern, and every decoded event interns its key and its string fields. Internal to the
    // pool: ids are given in intern order whatever the hash, and nothing else sees it.
    constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull;
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = k0 ^ mix(n ^ k1, k2);
    uint64_t a = 0, b = 0;
    if (n > 16) {
        for (; n > 16; p += 16, n -= 16) h = mix(load64(p) ^ k1, load64(p + 8) ^ h);
        a = load64(p + n - 16);
        b = load64(p + n - 8);
    } else if (n >= 8) {
        a = load64(p);
        b = load64(p + n - 8);
    } else if (n >= 4) {
        a = load32(p) << 32 | load32(p + n - 4);
    } else if (n > 0) {
        a = uint64_t{static_cast<unsigned char>(p[0])} << 16 |
            uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 | static_cast<unsigned char>(p[n - 1]);
    }
    h = mix(a ^ k1, b ^ h);
    h = mix(h ^ k2, n ^ k0);
    return static_cast<uint32_t>(h ^ (h >> 32));
}

} // namespace

StringPool::StringPool(const StringPool& o) {
    for (uint32_t id = 0; id < o.size(); ++id) intern(o.view(id));
}

StringPool& StringPool::operator=(const StringPool& o) {
    if (this != &o) {
        StringPool copy(o);
        *this = std::move(copy);
    }
    return *this;
}

// Inlined into intern's hit path (a call with its saved registers was about a third of a hit's cost).
[[gnu::always_inline]] inline size_t StringPool::probe(std::string_view s, uint32_t h) const {
    const size_t mask = index_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& slot = index_[i];
        if (slot.id == kNoString) return i;
        if (slot.hash != h) continue;
        // The text's length byte first (under 128 bytes), then the bytes inline: no string_view, no memcmp.
        const auto* p = reinterpret_cast<const unsigned char*>(texts_[slot.id]);
        if (p[0] < 0x80) {
            if (p[0] == s.size() && same_bytes(reinterpret_cast<const char*>(p + 1), s.data(), s.size()))
                return i;
        } else if (long_view(p) == s) {
            return i;
        }
    }
}

std::string_view StringPool::long_view(const unsigned char* p) {
    size_t n = 0;
    unsigned shift = 0;
    for (;; ++p, shift += 7) {
        n |= size_t{*p & 0x7fu} << shift;
        if (*p < 0x80) break;
    }
    return {reinterpret_cast<const char*>(p + 1), n};
}

const char* StringPool::store(std::string_view s) {
    unsigned char len[10];
    size_t nlen = 0;
    for (size_t n = s.size();; n >>= 7) {
        len[nlen++] = static_cast<unsigned char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
        if (n < 0x80) break;
    }
    const size_t need = nlen + s.size();
    char* at;
    if (need > chunk_left_ && need > kPoolChunk / 4) {
        // A long string gets a chunk of its own; the current chunk stays the one to fill.
        auto own = std::make_unique<char[]>(need);
        chunk_bytes_ += need;
        at = own.get();
        chunks_.insert(chunks_.end() - (chunks_.empty() ? 0 : 1), std::move(own));
    } else {
        if (need > chunk_left_) {
            chunks_.push_back(std::make_unique<char[]>(kPoolChunk));
            chunk_bytes_ += kPoolChunk;
            chunk_left_ = kPoolChunk;
        }
        at = chunks_.back().get() + (kPoolChunk - chunk_left_);
        chunk_left_ -= need;
    }
    std::memcpy(at, len, nlen);
    if (!s.empty()) std::memcpy(at + nlen, s.data(), s.size());
    return at;
}

void StringPool::grow() {
    std::vector<Slot> old = std::move(index_);
    index_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    const size_t mask = index_.size() - 1;
    for (const Slot& slot : old) {
        if (slot.id == kNoString) continue;
        size_t i = slot.hash & mask;
        while (index_[i].id != kNoString) i = (i + 1) & mask;
        index_[i] = slot;
    }
}

uint32_t StringPool::intern(std::string_view s) {
    const uint32_t h = pool_hash(s);
    if (!index_.empty()) {
        const size_t i = probe(s, h);
        if (index_[i].id != kNoString) return index_[i].id;
    }
    return insert(s, h);
}

uint32_t StringPool::insert(std::string_view s, uint32_t h) {
    if ((texts_.size() + 1) * 4 > index_.size() * 3) grow();
    const auto id = static_cast<uint32_t>(texts_.size());
    texts_.push_back(store(s));
    index_[probe(s, h)] = Slot{id, h};
    return id;
}

uint32_t StringPool::find(std::string_view s) const {
    if (index_.empty()) return kNoString;
    const Slot& slot = index_[probe(s, pool_hash(s))];
    return slot.id;
}

void seed_string_pool(const RuleSet& rs, StringPool& pool) {
    assert(pool.size() == 0 && "seed an empty pool");
    for (const auto& s : rs.strings) pool.intern(s);
}

} // namespace ethogram::ir
