// state.h: the interpreter's per-key state: plain structs, one set per partition key, no pointers into
// the rule set, so that a later snapshot can serialise them.
#pragma once

#include "compiler/interp/block_cache.h"
#include "compiler/interp/event_ring.h"
#include "compiler/interp/exact_sum.h"
#include "compiler/interp/model_state.h"
#include "compiler/ir/event.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// An event as the interpreter keeps it: the decoded event (its fields inline, in the same allocation),
/// its `dwell` pseudo-field, which is only known when the key's next event arrives (missing until then),
/// and an intrusive reference count. One allocation of 56 + 16 x fields bytes per event (a shared_ptr to an
/// ir::Event took a control block, the object and a separate field array; the dwell as an ir::Value took 8
/// bytes more, which with 2 fields moved the block from malloc's 96-byte size to its 112-byte one).
struct StoredEvent {
    /// The event's fields: `n` values stored right after the StoredEvent (see make_event).
    struct Fields {
        uint32_t n = 0;
        const ir::Value* data() const;
        size_t size() const { return n; }
        bool empty() const { return n == 0; }
        const ir::Value& operator[](size_t i) const { return data()[i]; }
        const ir::Value* begin() const { return data(); }
        const ir::Value* end() const { return data() + n; }
    };
    /// ir::Event's members but the key (the KeyState's) and with the fields inline.
    struct Ev {
        int64_t time = 0;            ///< event time, µs since the epoch, UTC
        uint64_t seq = 0;            ///< arrival sequence number
        uint64_t line = 0;           ///< 1-based input line number (0 = not from a file)
        Fields fields;               ///< schema field i (Missing for an absent optional)
        uint32_t id = ir::kNoString; ///< StringPool id of the event's `id` field, if any
        uint16_t type = 0;           ///< index into RuleSet::events
        /// Not part of the event (here to fill the padding): whether dwell_us holds the dwell, and
        /// EventPtr's reference count (intrusive).
        bool has_dwell = false;
        uint32_t refs = 0;
    };
    Ev ev;
    int64_t dwell_us = 0; ///< the dwell (µs) once the key's next event arrived (ev.has_dwell)
    /// Processing order (0, 1, 2 ... over all keys). Not `seq`: seq is the arrival order, and a reorder
    /// buffer releases events by time, so a later event may carry a smaller seq.
    uint64_t ord = 0;

    /// The `dwell` pseudo-field: a Duration once the key's next event arrived, Missing before.
    ir::Value dwell() const { return ev.has_dwell ? ir::Value::duration(dwell_us) : ir::Value::missing(); }
    void set_dwell(int64_t us) {
        dwell_us = us;
        ev.has_dwell = true;
    }
    /// The decoded event as an ir::Event with key `key` (snapshots).
    ir::Event to_event(uint32_t key) const;
};

static_assert(sizeof(StoredEvent) == 56, "a stored event is 56 bytes plus its fields");

inline const ir::Value* StoredEvent::Fields::data() const {
    // The field array follows the StoredEvent in the allocation make_event made.
    const auto* owner = reinterpret_cast<const StoredEvent*>(
        reinterpret_cast<const char*>(this) - offsetof(StoredEvent, ev) - offsetof(Ev, fields));
    return reinterpret_cast<const ir::Value*>(owner + 1);
}

/// A counted reference to a StoredEvent (events are shared between scope buffers, sessions and partial
/// matches: the dwell of an event must be updated once and seen everywhere). Like std::shared_ptr without
/// the control block and the atomic count: an interpreter is single-threaded.
class EventPtr {
public:
    EventPtr() = default;
    EventPtr(std::nullptr_t) {} // NOLINT(google-explicit-constructor): like shared_ptr
    EventPtr(const EventPtr& o) : p_(o.p_) {
        if (p_) ++p_->ev.refs;
    }
    EventPtr(EventPtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    EventPtr& operator=(const EventPtr& o) {
        if (o.p_) ++o.p_->ev.refs;
        release();
        p_ = o.p_;
        return *this;
    }
    EventPtr& operator=(EventPtr&& o) noexcept {
        if (this != &o) {
            release();
            p_ = o.p_;
            o.p_ = nullptr;
        }
        return *this;
    }
    ~EventPtr() { release(); }

    StoredEvent* get() const { return p_; }
    StoredEvent* operator->() const { return p_; }
    StoredEvent& operator*() const { return *p_; }
    explicit operator bool() const { return p_ != nullptr; }
    void reset() {
        release();
        p_ = nullptr;
    }
    bool operator==(const EventPtr& o) const { return p_ == o.p_; }
    bool operator==(std::nullptr_t) const { return p_ == nullptr; }

    /// A new event with `nfields` fields, copies of `fields[0 .. nfields)` (Missing when null), referenced
    /// once.
    static EventPtr make(uint32_t nfields, const ir::Value* fields = nullptr);

    /// Raw references for containers that keep a StoredEvent* (PartialMatch): `retain` adds one,
    /// `release_raw` drops one (and frees the event with its last).
    static void retain(StoredEvent* p) { ++p->ev.refs; }
    static void release_raw(StoredEvent* p) {
        if (--p->ev.refs == 0) destroy(p);
    }

private:
    friend EventPtr make_event(const ir::Event& e, uint64_t ord); // builds the event in place
    // Inline: dropping a reference is on every path that drops an event (the free, rare per reference, is
    // out of line in engine.cpp).
    void release() {
        if (p_) release_raw(p_);
    }
    static void destroy(StoredEvent* p);
    StoredEvent* p_ = nullptr;
};

/// A stored copy of decoded event `e` (dwell missing), processing order `ord`.
EventPtr make_event(const ir::Event& e, uint64_t ord);

/// Heap bytes of one stored event with `nfields` fields (its one allocation).
constexpr uint64_t stored_event_alloc_bytes(uint32_t nfields) {
    return sizeof(StoredEvent) + uint64_t{nfields} * sizeof(ir::Value);
}

using EventBuffer = Ring<EventPtr>;

/// The accumulators of an aggregate's left fold over a session's events (aggregate_fold.cpp): the rescan's
/// own, kept between evaluations, so that the next one continues instead of walking the whole session.
struct FoldState {
    ir::Value acc;         ///< transitions, backtracks: the last value; min, max, first, last: the answer;
                           ///< an int or duration sum; gap_min, gap_max: the extreme gap
    ExactSum exact;        ///< sum, avg, dwell_time: the values as doubles, exactly (exact_sum.h)
    double sum = 0;        ///< gap_mean: the gaps added as doubles in order
    int64_t count = 0;     ///< count: elements; sum, avg, entropy, backtracks: present values; gaps: elements
    int64_t hits = 0;      ///< transitions, backtracks: the answer
    int64_t last_time = 0; ///< gaps: the previous element's time
    ir::Type first = ir::Type::Missing; ///< avg: the first present value's type
    bool any_float = false;             ///< sum: a float among the values
};
/// distinct, entropy, backtracks: how often each value (as a key: -0.0 is 0.0) was seen, in key order.
using FoldKeys = std::map<std::pair<uint8_t, int64_t>, int64_t>;
/// One aggregate's fold over a session's first `n` events: valid while the n-th is still the event with
/// processing order `last_ord`. Enough, because the events only leave at the front (and fold_out_front
/// moves `n` when one does) and processing orders grow along the session and are never reused within a
/// run: had an event left unseen, another would stand at position n - 1.
struct Fold {
    uint32_t agg = 0; ///< the aggregate's class (ExprEvaluator::fold_of: alike aggregates share a fold)
    uint32_t n = 0;   ///< session positions folded
    uint64_t last_ord = 0;
    FoldState state;
    std::unique_ptr<FoldKeys> keys; ///< for the kinds that count values (allocated on first use)

    /// Whether the fold still holds the first `n` events of `s` (else it is folded again from the start).
    bool holds_prefix_of(const EventBuffer& s) const {
        return n != 0 && n <= s.size() && s[n - 1]->ord == last_ord;
    }
};
using SessionFolds = std::vector<Fold>;

/// A session's events: an EventBuffer allocated with one owner word, which points to the session's folds
/// (null until an aggregate is folded over it), so that the folds live and die with the events they fold
/// and cost nothing to a session that keeps no events. A session only gains events at its back (and loses
/// its front to the scope cap, or all of them when it closes).
class SessionEvents : public EventBuffer {
public:
    SessionEvents() = default;
    SessionEvents(SessionEvents&&) noexcept = default;
    SessionEvents& operator=(SessionEvents&& o) noexcept {
        if (this != &o) {
            drop_folds();
            EventBuffer::operator=(std::move(o));
        }
        return *this;
    }
    ~SessionEvents() { drop_folds(); }
    void clear() {
        drop_folds();
        EventBuffer::clear();
    }
    /// Appends `e` (the owner word allocated with the ring).
    void push(EventPtr e) { push_back(std::move(e), 1); }
    /// The folds, created on first use; null when the ring has no owner word (empty).
    SessionFolds* folds() const {
        int64_t* w = words();
        if (!w) return nullptr;
        if (w[0] == 0) w[0] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(new SessionFolds()));
        return reinterpret_cast<SessionFolds*>(static_cast<uintptr_t>(w[0]));
    }
    /// The folds when there are any (never creates them).
    SessionFolds* existing_folds() const {
        const int64_t* w = words();
        return w && w[0] != 0 ? reinterpret_cast<SessionFolds*>(static_cast<uintptr_t>(w[0])) : nullptr;
    }
    /// Heap bytes of the folds (for the state accounting, malloc's block overhead included), 0 without.
    size_t fold_bytes() const {
        const SessionFolds* f = existing_folds();
        if (!f) return 0;
        size_t n = sizeof(SessionFolds) + f->capacity() * sizeof(Fold) + 32;
        for (const Fold& x : *f)
            if (x.keys)
                n += sizeof(FoldKeys) + 16 + x.keys->size() * 64; // a map node: 56 bytes and malloc's 8
        return n;
    }
    /// Forgets the folds (a hot swap: the aggregates they name are the old rule set's).
    void drop_folds() {
        if (SessionFolds* f = existing_folds()) {
            delete f;
            words()[0] = 0;
        }
    }
};

/// One open (or closed) session of one key.
/// 48 bytes: what follows from other members is not stored (open: a latest event; the latest time: the
/// latest event's; the deadline: sessions.h session_deadline).
struct SessionState {
    int64_t start = 0;
    uint64_t count = 0;      ///< member events so far (not capped)
    uint64_t generation = 0; ///< incremented when a session opens: resets `over session` edge memory
    /// The deadline of the session's live timer entry (engine.h Timer; at or before the session's
    /// deadline); 0 while the session is closed.
    int64_t timer_at = 0;
    SessionEvents events; ///< the session's events (capped), kept only when a rule scopes over it
    EventPtr last_event;  ///< the session's latest event (null while closed)

    bool open() const { return static_cast<bool>(last_event); }
    /// Time of the session's latest event (open sessions only).
    int64_t last() const { return last_event->ev.time; }
};

/// A fixed-size array of per-session or per-rule states stored inline in the key table's record, after
/// the KeyState (key_table.h): no allocation per array. 4 bytes in KeyState (the byte offset of the array's
/// 8-byte header, which holds its size and first index, from this object; 0 while empty) where a block
/// pointer took 8 and its allocation 16 more. Indexed from `base`: per-rule states of one kind cover only
/// the rules from the first to the last rule of that kind. A KeyState is never moved or copied (its arrays
/// live at fixed offsets from it); its elements are.
template <class T>
class Slots {
public:
    /// The inline header before the elements.
    struct alignas(8) Head {
        uint32_t n;
        uint32_t base;
    };
    static_assert(alignof(T) <= alignof(Head));
    /// Bytes of an inline array of `n` states (0 for none), a multiple of 8 so that the next array's header
    /// stays aligned.
    static constexpr size_t inline_bytes(size_t n) {
        return n == 0 ? 0 : (sizeof(Head) + n * sizeof(T) + 7) & ~size_t{7};
    }

    Slots() = default;
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    ~Slots() { destroy(); }

    /// Binds the array to raw storage of inline_bytes(n) bytes at byte offset `off` (> 0) from this object,
    /// inside the same record, and constructs `n` default states, indexed base .. base + n - 1. Only the
    /// key table calls this.
    void bind(size_t off, size_t n, uint32_t base) {
        destroy();
        if (n == 0) return;
        off_ = static_cast<uint32_t>(off);
        Head* h = head();
        h->n = static_cast<uint32_t>(n);
        h->base = base;
        for (size_t i = 0; i < n; ++i) new (data() + i) T();
    }
    /// Resets the contents to `n` default states; `n` must be the bound size (fixed per rule set).
    void assign(size_t n) {
        if (n != size()) std::abort();
        for (size_t i = 0; i < n; ++i) {
            data()[i].~T();
            new (data() + i) T();
        }
    }
    size_t size() const { return off_ ? head()->n : 0; }
    bool empty() const { return off_ == 0; }
    /// Bytes of the array and its header inside the record (0 while empty).
    size_t inline_bytes() const { return inline_bytes(size()); }
    /// The state of index `i` (base <= i < base + size()).
    T& operator[](size_t i) { return data()[i - head()->base]; }
    const T& operator[](size_t i) const { return data()[i - head()->base]; }
    T* begin() { return off_ ? data() : nullptr; }
    T* end() { return off_ ? data() + head()->n : nullptr; }
    const T* begin() const { return off_ ? data() : nullptr; }
    const T* end() const { return off_ ? data() + head()->n : nullptr; }

private:
    Head* head() const {
        return reinterpret_cast<Head*>(const_cast<char*>(reinterpret_cast<const char*>(this)) + off_);
    }
    T* data() const { return reinterpret_cast<T*>(head() + 1); }
    void destroy() {
        if (!off_) return;
        for (uint32_t i = 0; i < head()->n; ++i) data()[i].~T();
        off_ = 0;
    }
    uint32_t off_ = 0;
};

/// A threshold rule's state for one key.
struct ThresholdState {
    EventBuffer scope;        ///< Window / LastN scopes (Session scopes use SessionState::events)
    bool evaluated = false;   ///< the condition was evaluated before (edge triggering)
    bool previous = false;    ///< its value at the previous evaluation
    uint64_t session_gen = 0; ///< the session generation `previous` belongs to (over session)
};

/// The events a partial match binds to one pattern step: a view into the match (valid until it changes).
struct StepEvents {
    StoredEvent* const* b = nullptr;
    StoredEvent* const* e = nullptr;
    StoredEvent* const* begin() const { return b; }
    StoredEvent* const* end() const { return e; }
    size_t size() const { return static_cast<size_t>(e - b); }
    bool empty() const { return b == e; }
    StoredEvent* front() const { return *b; }
};

/// One partial match of a pattern rule, 72 bytes. Its bound events are one flat array in binding order,
/// each tagged with its pattern step index: a match binds steps in order, so the tags never decrease and
/// a step's events are one run of the array. Up to kInline events are stored in the match itself (no
/// allocation for the common one- to three-event match); more go to one heap block holding the event
/// pointers and then the tags. Each bound event holds one reference (EventPtr's count). The first event's
/// time is kept (the window test reads it for every live match per event); its ord, and the last event's
/// time and ord, are read from the events.
struct PartialMatch {
    static constexpr uint32_t kInline = 3;

    int64_t first_time = 0;       ///< time of the first bound event
    int64_t absence_deadline = 0; ///< when `waiting`
    uint32_t pos = 0;             ///< index into the rule's positive steps: the step the match is at
    uint32_t count = 0;           ///< events held by that step

    PartialMatch() = default;
    PartialMatch(const PartialMatch& o) { copy_from(o); }
    PartialMatch(PartialMatch&& o) noexcept { steal(o); }
    PartialMatch& operator=(const PartialMatch& o) {
        if (this != &o) {
            clear();
            copy_from(o);
        }
        return *this;
    }
    PartialMatch& operator=(PartialMatch&& o) noexcept {
        if (this != &o) {
            clear();
            steal(o);
        }
        return *this;
    }
    ~PartialMatch() { clear(); }

    /// Appends `e` (one reference) bound to pattern step `step` (not before the last bound event's step).
    void push(StoredEvent* e, uint32_t step) {
        if (n_ == capacity()) grow();
        if (cap_ == 0) {
            in_.ev[n_] = e;
            tags_[n_] = step;
        } else {
            heap_ev()[n_] = e;
            heap_tags()[n_] = step;
        }
        EventPtr::retain(e);
        ++n_;
    }
    /// Events bound, over all steps.
    uint32_t size() const { return n_; }
    StoredEvent* const* events() const { return cap_ == 0 ? in_.ev : heap_ev(); }
    const uint32_t* tags() const { return cap_ == 0 ? tags_ : heap_tags(); }
    /// The events bound to pattern step `step` (empty for a step not reached, a negation, an absence).
    StepEvents step(uint32_t step) const;
    const StoredEvent& first() const { return *events()[0]; }
    const StoredEvent& last() const { return *events()[n_ - 1]; }
    uint64_t first_ord() const { return first().ord; }
    uint64_t last_ord() const { return last().ord; }
    int64_t last_time() const { return last().ev.time; }
    /// Heap bytes of the event block (0 while the events are inline).
    uint64_t heap_bytes() const { return uint64_t{cap_} * (sizeof(StoredEvent*) + sizeof(uint32_t)); }

    /// The one event bound to pattern step `step`; null when the step holds none or several (what a
    /// Field expression reading the step finds, expr_eval.h step_event).
    const StoredEvent* single(uint32_t step) const {
        if (n_ > kInline) {
            const StepEvents bound = this->step(step);
            return bound.size() == 1 ? bound.front() : nullptr;
        }
        // Inline (at most three events): a scan costs less than the binary search's set-up.
        for (uint32_t i = 0; i < n_; ++i) {
            if (tags_[i] < step) continue;
            if (tags_[i] > step) break;
            return i + 1 < n_ && tags_[i + 1] == step ? nullptr : in_.ev[i];
        }
        return nullptr;
    }

    bool waiting = false; ///< all positive steps done: waiting out the trailing absence

    // The representation. Public only so that the struct is standard layout (all data members of one
    // access): compiled code (compiler/jit) reads a bound step's event at offsetof() positions. Use the
    // functions above.
    uint32_t n_ = 0;   ///< bound events
    uint32_t cap_ = 0; ///< 0: inline; else the heap block's capacity in events
    uint32_t tags_[kInline] = {};
    union {
        StoredEvent* ev[kInline];
        StoredEvent** heap; ///< cap_ event pointers, then cap_ uint32_t tags
    } in_ = {};

private:
    uint32_t capacity() const { return cap_ == 0 ? kInline : cap_; }
    StoredEvent** heap_ev() const { return in_.heap; }
    uint32_t* heap_tags() const { return reinterpret_cast<uint32_t*>(in_.heap + cap_); }
    void grow();
    void free_heap(); // out of line: most matches hold their events inline
    void clear() {
        StoredEvent* const* ev = events();
        for (uint32_t i = 0; i < n_; ++i) EventPtr::release_raw(ev[i]);
        if (cap_ != 0) free_heap();
        n_ = 0;
        cap_ = 0;
    }
    void copy_from(const PartialMatch& o);
    void steal(PartialMatch& o) noexcept;
};

static_assert(sizeof(PartialMatch) == 72, "a partial match is 72 bytes (its first three events inline)");
static_assert(std::is_standard_layout_v<PartialMatch>, "compiled code reads a match at offsetof() positions");

inline StepEvents PartialMatch::step(uint32_t step) const {
    // Tags never decrease: the step's run by binary search (a Kleene step may hold many events).
    const uint32_t* t = tags();
    StoredEvent* const* ev = events();
    const auto [lo, hi] = std::equal_range(t, t + n_, step);
    return StepEvents{ev + (lo - t), ev + (hi - t)};
}

/// A pattern rule's state for one key.
struct PatternState {
    /// In creation order (= first event order). Its array comes from the block cache: a vector that
    /// doubles takes the block another one left when it doubled.
    std::vector<PartialMatch, blocks::Allocator<PartialMatch>> matches;
    bool timer_scheduled = false;
    int64_t timer_deadline = 0; ///< while scheduled: the deadline of the live timer entry (engine.h Timer)
};

/// Per RuleSet::models: what one key's events taught each model.
using ModelStates = Slots<ModelKeyState>;

/// Everything the interpreter keeps for one partition key: 40 bytes at the start of its record in the key
/// table's slab, followed in the same record by the arrays of what the rule set has (sessions, threshold
/// rules, pattern rules, models; key_table.h lays them out). Never moved or copied.
struct KeyState {
    KeyState() = default;
    KeyState(const KeyState&) = delete;
    KeyState& operator=(const KeyState&) = delete;

    uint32_t key = ir::kNoString;     ///< kNoString: a free slot of the key table
    bool queued = false;              ///< has an entry in the interpreter's activity queue (eviction)
    Slots<SessionState> sessions;     ///< per RuleSet::sessions
    Slots<ThresholdState> thresholds; ///< per rule (used for threshold rules), empty without any
    Slots<PatternState> patterns;     ///< per rule (used for pattern rules), empty without any
    ModelStates models;               ///< per RuleSet::models
    EventPtr last;                    ///< the key's latest event (its dwell is still missing)
    uint64_t bytes = 0;               ///< approximate bytes of this state (state_bytes.h), last computed
};

static_assert(sizeof(KeyState) == 40, "the fixed part of a key's record");

} // namespace ethogram::interp
