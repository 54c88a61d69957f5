// state.h: the interpreter's per-key state: plain structs, one set per partition key, no pointers into
// the rule set, so that a later snapshot can serialise them.
#pragma once

#include "compiler/interp/event_ring.h"
#include "compiler/interp/model_state.h"
#include "compiler/ir/event.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace ethogram::interp {

/// An event as the interpreter keeps it: the decoded event (its fields inline, in the same allocation),
/// its `dwell` pseudo-field, which is only known when the key's next event arrives (missing until then),
/// and an intrusive reference count. One allocation of 64 + 16 x fields bytes per event (a shared_ptr to an
/// ir::Event took a control block, the object and a separate field array).
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
        /// Not part of the event: EventPtr's reference count (intrusive), here to fill the padding.
        uint32_t refs = 0;
    };
    Ev ev;
    ir::Value dwell; ///< Duration once the key's next event arrived, Missing before
    /// Processing order (0, 1, 2 ... over all keys). Not `seq`: seq is the arrival order, and a reorder
    /// buffer releases events by time, so a later event may carry a smaller seq.
    uint64_t ord = 0;

    /// The decoded event as an ir::Event with key `key` (snapshots).
    ir::Event to_event(uint32_t key) const;
};

static_assert(sizeof(StoredEvent) == 64, "a stored event is 64 bytes plus its fields");

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

    /// A new event with `nfields` fields (Missing), referenced once.
    static EventPtr make(uint32_t nfields);

private:
    void release();
    StoredEvent* p_ = nullptr;
};

/// A stored copy of decoded event `e` (dwell missing), processing order `ord`.
EventPtr make_event(const ir::Event& e, uint64_t ord);

/// Heap bytes of one stored event with `nfields` fields (its one allocation).
constexpr uint64_t stored_event_alloc_bytes(uint32_t nfields) {
    return sizeof(StoredEvent) + uint64_t{nfields} * sizeof(ir::Value);
}

using EventBuffer = Ring<EventPtr>;

/// One open (or closed) session of one key.
/// 48 bytes: what follows from other members is not stored (open: a live timer; the latest time: the
/// latest event's; the deadline: sessions.h session_deadline).
struct SessionState {
    int64_t start = 0;
    uint64_t count = 0;      ///< member events so far (not capped)
    uint64_t generation = 0; ///< incremented when a session opens: resets `over session` edge memory
    /// The live timer entry's generation (lazy invalidation). Never 0 while the session is open (the first
    /// generation is 1), always 0 while it is closed.
    uint64_t timer_gen = 0;
    EventBuffer events;  ///< the session's events (capped), kept only when a rule scopes over it
    EventPtr last_event; ///< the session's latest event (null while closed)

    bool open() const { return timer_gen != 0; }
    /// Time of the session's latest event (open sessions only).
    int64_t last() const { return last_event->ev.time; }
};

/// A fixed-size array of per-session or per-rule states in one allocation (its size and first index in the
/// block's header), nothing while empty: 8 bytes in KeyState where a std::vector took 24. Indexed from
/// `base`: per-rule states of one kind cover only the rules from the first to the last rule of that kind.
template <class T>
class Slots {
public:
    Slots() = default;
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    Slots(Slots&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Slots& operator=(Slots&& o) noexcept {
        if (this != &o) {
            clear();
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    ~Slots() { clear(); }

    /// Replaces the contents by `n` default states, indexed base .. base + n - 1.
    void assign(size_t n, uint32_t base = 0) {
        clear();
        if (n == 0) return;
        p_ = static_cast<Head*>(::operator new(sizeof(Head) + n * sizeof(T)));
        p_->n = static_cast<uint32_t>(n);
        p_->base = base;
        for (size_t i = 0; i < n; ++i) new (data() + i) T();
    }
    void clear() {
        if (!p_) return;
        for (size_t i = 0; i < p_->n; ++i) data()[i].~T();
        ::operator delete(p_);
        p_ = nullptr;
    }
    size_t size() const { return p_ ? p_->n : 0; }
    bool empty() const { return p_ == nullptr; }
    /// Heap bytes of the block (0 while empty).
    size_t heap_bytes() const { return p_ ? sizeof(Head) + p_->n * sizeof(T) : 0; }
    /// The state of index `i` (base <= i < base + size()).
    T& operator[](size_t i) { return data()[i - p_->base]; }
    const T& operator[](size_t i) const { return data()[i - p_->base]; }
    T* begin() { return p_ ? data() : nullptr; }
    T* end() { return p_ ? data() + p_->n : nullptr; }
    const T* begin() const { return p_ ? data() : nullptr; }
    const T* end() const { return p_ ? data() + p_->n : nullptr; }

private:
    struct alignas(8) Head {
        uint32_t n;
        uint32_t base;
    };
    static_assert(alignof(T) <= alignof(Head));
    T* data() { return reinterpret_cast<T*>(p_ + 1); }
    const T* data() const { return reinterpret_cast<const T*>(p_ + 1); }
    Head* p_ = nullptr;
};

/// A threshold rule's state for one key.
struct ThresholdState {
    EventBuffer scope;        ///< Window / LastN scopes (Session scopes use SessionState::events)
    bool evaluated = false;   ///< the condition was evaluated before (edge triggering)
    bool previous = false;    ///< its value at the previous evaluation
    uint64_t session_gen = 0; ///< the session generation `previous` belongs to (over session)
};

/// One partial match of a pattern rule.
struct PartialMatch {
    uint32_t pos = 0;   ///< index into the rule's positive steps: the step the match is at
    uint32_t count = 0; ///< events held by that step
    std::vector<std::vector<EventPtr>> bound; ///< per pattern step index (negations stay empty)
    uint64_t first_ord = 0;                   ///< StoredEvent::ord of the first bound event
    int64_t first_time = 0;
    uint64_t last_ord = 0;
    int64_t last_time = 0;
    bool waiting = false;         ///< all positive steps done: waiting out the trailing absence
    int64_t absence_deadline = 0; ///< when `waiting`
};

/// A pattern rule's state for one key.
struct PatternState {
    std::vector<PartialMatch> matches; ///< in creation order (= first event order)
    bool timer_scheduled = false;
    int64_t timer_deadline = 0;
    uint64_t timer_gen = 0;
};

/// Per RuleSet::models: what one key's events taught each model.
using ModelStates = Slots<ModelKeyState>;

/// Everything the interpreter keeps for one partition key: 56 bytes in the key table's slab, and blocks
/// allocated only for what the rule set has (sessions, threshold rules, pattern rules, models).
struct KeyState {
    uint32_t key = ir::kNoString;     ///< kNoString: a free slot of the key table
    bool queued = false;              ///< has an entry in the interpreter's activity queue (eviction)
    EventPtr last;                    ///< the key's latest event (its dwell is still missing)
    Slots<SessionState> sessions;     ///< per RuleSet::sessions
    Slots<ThresholdState> thresholds; ///< per rule (used for threshold rules), empty without any
    Slots<PatternState> patterns;     ///< per rule (used for pattern rules), empty without any
    ModelStates models;               ///< per RuleSet::models
    uint64_t bytes = 0;               ///< approximate bytes of this state (state_bytes.h), last computed
};

} // namespace ethogram::interp
