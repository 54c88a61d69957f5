// engine.cpp: the interpreter's shared state and the tables precomputed from the rule set.
#include "compiler/interp/engine.h"

#include <cstring>
#include <utility>

namespace ethogram::interp {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycleEvents = false; // let AddressSanitizer see every block's lifetime
#else
constexpr bool kRecycleEvents = true;
#endif

/// Freed stored-event blocks kept for reuse, per field count (all the events of one type have the same
/// count), per thread. Every event makes one block and frees it when its last reference goes, usually
/// minutes of stream time later and in bursts (a window's or a session's events at once): glibc then
/// consolidated and split chunks (malloc and free were about a sixth of the matcher's time). A list
/// per size is a pop and a push. Bounded (kMaxBytes per thread, the rest goes back to the allocator);
/// thread-local because several interpreters may run on several threads (`--threads`), and a block freed
/// on another thread than the one that made it is simply reused there.
class EventBlocks {
public:
    static constexpr uint32_t kMaxFields = 32;
    static constexpr uint64_t kMaxBytes = uint64_t{1} << 20;

    ~EventBlocks() {
        for (Node*& head : free_)
            while (head) ::operator delete(std::exchange(head, head->next));
    }
    void* get(uint32_t nfields) {
        if (nfields > kMaxFields || !free_[nfields]) return ::operator new(stored_event_alloc_bytes(nfields));
        Node* n = free_[nfields];
        free_[nfields] = n->next;
        held_ -= stored_event_alloc_bytes(nfields);
        return n;
    }
    void put(void* p, uint32_t nfields) {
        const uint64_t bytes = stored_event_alloc_bytes(nfields);
        if (nfields > kMaxFields || held_ + bytes > kMaxBytes) {
            ::operator delete(p);
            return;
        }
        auto* n = static_cast<Node*>(p);
        n->next = free_[nfields];
        free_[nfields] = n;
        held_ += bytes;
    }

private:
    struct Node {
        Node* next;
    };
    Node* free_[kMaxFields + 1] = {};
    uint64_t held_ = 0;
};

thread_local EventBlocks t_event_blocks;

} // namespace

// Stored events (state.h): one allocation, the StoredEvent then its field array.
EventPtr EventPtr::make(uint32_t nfields, const ir::Value* from) {
    void* mem =
        kRecycleEvents ? t_event_blocks.get(nfields) : ::operator new(stored_event_alloc_bytes(nfields));
    auto* se = new (mem) StoredEvent();
    se->ev.fields.n = nfields;
    auto* fields = reinterpret_cast<ir::Value*>(se + 1);
    // Each field is written once: copied (Value is trivially copyable) or made Missing.
    if (from && nfields > 0)
        std::memcpy(static_cast<void*>(fields), from, nfields * sizeof(ir::Value));
    else
        for (uint32_t i = 0; i < nfields; ++i) new (fields + i) ir::Value();
    se->ev.refs = 1;
    EventPtr p;
    p.p_ = se;
    return p;
}

void EventPtr::destroy(StoredEvent* p) {
    const uint32_t nfields = p->ev.fields.n;
    p->~StoredEvent(); // Value and StoredEvent are trivially destructible: nothing else to run
    if (kRecycleEvents)
        t_event_blocks.put(p, nfields);
    else
        ::operator delete(p);
}

// Partial matches (state.h): the heap block of a match holding more than kInline events.
void PartialMatch::grow() {
    const uint32_t cap = capacity() * 2;
    const size_t bytes = size_t{cap} * (sizeof(StoredEvent*) + sizeof(uint32_t));
    auto** block = static_cast<StoredEvent**>(::operator new(bytes));
    auto* tags = reinterpret_cast<uint32_t*>(block + cap);
    std::memcpy(static_cast<void*>(block), events(), n_ * sizeof(StoredEvent*));
    std::memcpy(tags, this->tags(), n_ * sizeof(uint32_t));
    if (cap_ != 0) ::operator delete(in_.heap);
    in_.heap = block;
    cap_ = cap;
}

void PartialMatch::copy_from(const PartialMatch& o) {
    first_time = o.first_time;
    absence_deadline = o.absence_deadline;
    pos = o.pos;
    count = o.count;
    waiting = o.waiting;
    StoredEvent* const* ev = o.events();
    const uint32_t* tags = o.tags();
    for (uint32_t i = 0; i < o.n_; ++i) push(ev[i], tags[i]);
}

void PartialMatch::steal(PartialMatch& o) noexcept {
    first_time = o.first_time;
    absence_deadline = o.absence_deadline;
    pos = o.pos;
    count = o.count;
    waiting = o.waiting;
    n_ = o.n_;
    cap_ = o.cap_;
    std::memcpy(tags_, o.tags_, sizeof(tags_));
    in_ = o.in_;
    o.n_ = 0;
    o.cap_ = 0;
}

EventPtr make_event(const ir::Event& e, uint64_t ord) {
    EventPtr p = EventPtr::make(static_cast<uint32_t>(e.fields.size()), e.fields.data());
    StoredEvent& se = *p;
    se.ev.type = e.type;
    se.ev.time = e.time;
    se.ev.seq = e.seq;
    se.ev.line = e.line;
    se.ev.id = e.id;
    se.ord = ord;
    return p;
}

ir::Event StoredEvent::to_event(uint32_t key) const {
    ir::Event e;
    e.type = ev.type;
    e.key = key;
    e.time = ev.time;
    e.seq = ev.seq;
    e.line = ev.line;
    e.id = ev.id;
    e.fields.assign(ev.fields.begin(), ev.fields.end());
    return e;
}

Engine::Engine(const ir::RuleSet& r, ir::StringPool& p, const ir::ExecutorOptions& o)
    : rs(r), pool(p), opts(o), eval(r, p), overflow_warned(r.rules.size(), false),
      session_keeps_events(r.sessions.size(), false), session_end_rules(r.sessions.size()),
      patterns(r.rules.size()), models(r, p) {
    eval.attach_models(&models);
    auto cover = [](uint32_t& first, uint32_t& count, uint32_t r) {
        if (count == 0) first = r;
        count = r - first + 1;
    };
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        if (rs.rules[i].kind == ir::RuleKind::Threshold)
            cover(threshold_first, threshold_count, i);
        else
            cover(pattern_first, pattern_count, i);
    }
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        const ir::Rule& rule = rs.rules[i];
        if (rule.kind == ir::RuleKind::Threshold) {
            threshold_rules.push_back(i);
            const ir::Threshold& th = rule.threshold;
            if (th.scope != ir::ScopeKind::Session || th.session >= rs.sessions.size()) continue;
            session_keeps_events[th.session] = true;
            if (th.at_session_end) session_end_rules[th.session].push_back(i);
            continue;
        }
        PatternInfo& info = patterns[i];
        const auto& steps = rule.pattern.steps;
        bool any_type_counts = false;
        for (uint32_t s = 0; s < steps.size(); ++s) {
            if (steps[s].kind == ir::StepKind::Positive) info.positives.push_back(s);
            if (steps[s].kind == ir::StepKind::Absence) info.absence = static_cast<int32_t>(s);
            any_type_counts = any_type_counts || steps[s].types.empty() || steps[s].strict;
        }
        if (!any_type_counts) {
            info.touches.assign(rs.events.size(), false);
            for (const ir::Step& st : steps)
                for (uint16_t t : st.types)
                    if (t < info.touches.size()) info.touches[t] = true;
        }
        if (!any_type_counts && !info.positives.empty() && steps[info.positives[0]].max == 1) {
            info.only_starts.assign(rs.events.size(), true);
            for (uint32_t s = 0; s < steps.size(); ++s)
                if (s != info.positives[0])
                    for (uint16_t t : steps[s].types)
                        if (t < info.only_starts.size()) info.only_starts[t] = false;
        }
    }
    pattern_rules_by_type.resize(rs.events.size() + 1);
    for (uint32_t i = 0; i < rs.rules.size(); ++i) {
        if (rs.rules[i].kind != ir::RuleKind::Pattern) continue;
        const std::vector<bool>& touches = patterns[i].touches;
        for (size_t t = 0; t < pattern_rules_by_type.size(); ++t)
            if (touches.empty() || (t < touches.size() && touches[t])) pattern_rules_by_type[t].push_back(i);
    }
}

void Engine::schedule(int64_t deadline, uint32_t key, uint32_t slot) {
    timers.push(Timer{deadline, key, slot});
}

void push_capped(EventBuffer& buf, const EventPtr& e, uint32_t cap, ir::ExecutorStats& stats) {
    if (cap == 0) {
        ++stats.overflow_drops;
        return;
    }
    while (buf.size() >= cap) {
        buf.pop_front();
        ++stats.overflow_drops;
    }
    buf.push_back(e);
}

} // namespace ethogram::interp
