// diff_harness.cpp: oracle-vs-interpreter comparison, shrinking and reproduction text.
#include "tests/oracle/diff_harness.h"

#include "compiler/interp/interpreter.h"

#include <algorithm>
#include <exception>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace ethogram::oracle {

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

namespace {

class CollectingSink : public ir::DetectionSink {
public:
    explicit CollectingSink(const ir::RuleSet& rs) : rs_(rs) {}
    void emit(ir::Detection&& d) override { out.push_back(to_tuple(d, rs_)); }
    void suppressed(ir::Detection&& d) override { out.push_back(to_tuple(d, rs_)); }
    std::vector<Tuple> out;

private:
    const ir::RuleSet& rs_;
};

std::string listing(const ir::RuleSet& rs, const ir::StringPool& pool, const std::vector<Tuple>& v,
                    int64_t t0) {
    std::ostringstream os;
    if (v.empty()) os << "    (none)\n";
    for (const Tuple& t : v) os << "    " << format_tuple(rs, pool, t, t0) << "\n";
    return os.str();
}

} // namespace

std::vector<Tuple> interpreter_detections(const Case& c, std::string* error) {
    ir::StringPool pool;
    ir::seed_string_pool(c.rs, pool);
    CollectingSink sink(c.rs);
    try {
        ir::ExecutorOptions opts;
        if (c.max_partial_matches != UINT32_MAX) opts.max_partial_matches = c.max_partial_matches;
        auto exec = interp::make_interpreter(c.rs, pool, opts);
        for (const ir::Event& e : c.events) {
            exec->advance_watermark(e.time, sink);
            exec->on_event(e, sink);
        }
        exec->advance_watermark(ir::kTimeInfinity, sink);
    } catch (const std::exception& ex) {
        if (error) *error = ex.what();
    }
    return std::move(sink.out);
}

std::string compare_case(const Case& c) {
    std::string error;
    std::vector<Tuple> actual = interpreter_detections(c, &error);
    std::vector<Tuple> expected = expected_detections(c.rs, c.events, c.max_partial_matches);
    std::ostringstream why;
    if (!error.empty()) why << "interpreter threw: " << error << "\n";
    auto a = actual, e = expected;
    std::sort(a.begin(), a.end());
    std::sort(e.begin(), e.end());
    if (a != e) why << "detections differ (as multisets)\n";
    // Order: the same sequence of emitted detections per (key, rule). (Where suppressed detections go
    // relative to emitted ones within one batch is not specified.)
    std::map<std::pair<uint32_t, uint32_t>, std::vector<const Tuple*>> ea, ee;
    for (const Tuple& t : actual)
        if (t.suppressed_by < 0) ea[{t.key, t.rule}].push_back(&t);
    for (const Tuple& t : expected)
        if (t.suppressed_by < 0) ee[{t.key, t.rule}].push_back(&t);
    for (auto& [k, v] : ee) {
        auto it = ea.find(k);
        if (it == ea.end() || it->second.size() != v.size()) continue; // already a multiset difference
        for (size_t i = 0; i < v.size(); ++i)
            if (!(*v[i] == *it->second[i])) {
                why << "order differs for rule " << c.rs.rules[k.second].name << "\n";
                break;
            }
    }
    // Order: per key, detection times never go back (timers fire in deadline order before later events).
    std::map<uint32_t, int64_t> last_time;
    for (const Tuple& t : actual) {
        if (t.suppressed_by >= 0) continue;
        auto [it, fresh] = last_time.try_emplace(t.key, t.time);
        if (!fresh && t.time < it->second) {
            why << "detection times go back for a key (" << t.time << " after " << it->second << ")\n";
            break;
        }
        it->second = t.time;
    }
    return why.str();
}

std::string reproduction(Family f, uint64_t seed, const Case& failing) {
    Case c = failing;
    // Greedy shrinking: drop one event at a time while the case still fails.
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < c.events.size(); ++i) {
            Case smaller = c;
            smaller.events.erase(smaller.events.begin() + static_cast<std::ptrdiff_t>(i));
            if (!compare_case(smaller).empty()) {
                c = std::move(smaller);
                progress = true;
                break;
            }
        }
    }
    ir::StringPool pool;
    ir::seed_string_pool(c.rs, pool);
    int64_t t0 = c.events.empty() ? 0 : c.events.front().time;
    std::ostringstream os;
    os << "=== mismatch: family " << family_name(f) << ", case seed " << seed << " (stream shrunk from "
       << failing.events.size() << " to " << c.events.size() << " events)\n"
       << compare_case(c) << "--- rules"
       << (c.max_partial_matches != UINT32_MAX
               ? fmt::format(" (state.max_partial_matches = {})", c.max_partial_matches)
               : std::string())
       << "\n"
       << dump_rules(c.rs) << "--- stream\n"
       << dump_events(c.rs, c.events) << "--- expected (oracle)\n"
       << listing(c.rs, pool, expected_detections(c.rs, c.events, c.max_partial_matches), t0)
       << "--- actual (interpreter)\n"
       << listing(c.rs, pool, interpreter_detections(c), t0) << "(t = +ms from the first event, at " << t0
       << " us)\n";
    return os.str();
}

} // namespace ethogram::oracle
