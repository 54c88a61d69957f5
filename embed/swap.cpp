// swap.cpp: hot deployment in the embedding API (Engine::swap_rules), the way `etho run --watch` swaps
// versions (runtime/hot_swap.cpp): the new rules bound to the running string pool, the state of unchanged
// rules taken over by the new executor, buffered events decoded again against the new schemas.
#include "embed/engine_impl.h"

#include "runtime/hot_swap.h"

#include <utility>

namespace ethogram {

namespace {

std::string label(const ir::RuleSet& rs) {
    return rs.name + "@" + rs.version;
}

// A decoded event as the typed fields it was decoded from, under the rules that decoded it: for a held
// event without its source (restored from a snapshot), so that it can be validated against new schemas.
// Every value is in canonical form (µs, pool text, enum name), which the typed decoder takes back as is.
TypedEvent to_typed(const ir::Event& e, const ir::RuleSet& rs, const ir::StringPool& pool) {
    const ir::EventType& et = rs.events[e.type];
    TypedEvent t(et.name);
    for (size_t i = 0; i < et.fields.size() && i < e.fields.size(); ++i) {
        const ir::FieldDef& fd = et.fields[i];
        const ir::Value& v = e.fields[i];
        switch (v.type) {
        case ir::Type::Int: t.set(fd.name, FieldValue::integer(v.i)); break;
        case ir::Type::Float: t.set(fd.name, FieldValue::floating(v.f)); break;
        case ir::Type::Bool: t.set(fd.name, FieldValue::boolean(v.b)); break;
        case ir::Type::String:
            if (v.i >= 0 && static_cast<uint64_t>(v.i) < pool.size())
                t.set(fd.name, FieldValue::string(pool.view(static_cast<uint32_t>(v.i))));
            break;
        case ir::Type::Enum:
            if (v.i >= 0 && static_cast<size_t>(v.i) < fd.enum_values.size())
                t.set(fd.name, FieldValue::string(fd.enum_values[static_cast<size_t>(v.i)]));
            break;
        case ir::Type::Timestamp: t.set(fd.name, FieldValue::timestamp_us(v.i)); break;
        case ir::Type::Duration: t.set(fd.name, FieldValue::duration_us(v.i)); break;
        default: break; // missing: not set
        }
    }
    return t;
}

} // namespace

bool Engine::Impl::redecode(const ir::Event& held, Source& src, ir::Event& out, runtime::DecodeError& err) {
    if (!src.typed) {
        if (decoder->decode(src.json, held.line, out)) return true;
        err = decoder->error();
        return false;
    }
    if (!typed) typed = std::make_unique<embed::TypedDecoder>(*rs, pool, epoch_unit());
    return typed->decode(*src.typed, held.line, out, err);
}

bool Engine::Impl::swap(Impl& n, SwapReport& rep, std::string& error) {
    if (n.st.events_in != 0 || n.ended) {
        error = "the new engine has been used (it must be fresh: nothing pushed)";
        return false;
    }
    if (ended) {
        error = "flush() was called: the input has ended";
        return false;
    }
    if (n.opts.allowed_lateness_us != opts.allowed_lateness_us ||
        n.opts.epoch_seconds != opts.epoch_seconds || n.opts.type_field != opts.type_field) {
        error = "the new engine's allowed lateness, epoch unit and type field must be the running engine's";
        return false;
    }
    rep.from = label(*rs);
    rep.to = label(*n.rs);

    // The held events leave the buffer; those without their source (restored from a snapshot) get one
    // from the rules that decoded them, before those rules go.
    std::vector<ir::Event> held;
    reorder.drain(held);
    std::vector<Source> src(held.size());
    for (size_t i = 0; i < held.size(); ++i) {
        if (Source* s = sources.find(held[i].seq))
            src[i] = std::move(*s);
        else
            src[i].typed = to_typed(held[i], *rs, pool);
    }
    sources.clear();

    // `n`'s executor runs over its own pool: the rules are bound to this one and compiled again (without
    // the JIT's cache when an id moved), and the new executor takes over this one's state.
    n.exec.reset(); // with what else `n` made from its rules, before they leave it
    n.decoder.reset();
    n.typed.reset();
    n.pieces.clear();
    std::unique_ptr<ir::RuleSet> next_rs = std::move(n.rs);
    const bool same_ids = runtime::bind_strings(*next_rs, pool);
    std::string used, warning;
    auto next_exec =
        embed::make_executor(*next_rs, pool, n.opts, executor_options(n.opts), used, warning, same_ids);
    ir::StateTransfer tr;
    rep.carried = next_exec->take_state(*exec, tr);
    rep.why = rep.carried ? std::string() : tr.error;
    rep.carried_rules = std::move(tr.carried_rules);
    rep.fresh_rules = std::move(tr.fresh_rules);
    rep.keys = tr.keys;
    rep.partial_matches = tr.partial_matches;
    rep.timers = tr.timers;

    // What was made from the old rules goes before them: the executor, the decoders, the detection text.
    exec = std::move(next_exec);
    decoder.reset();
    typed.reset();
    pieces.clear();
    // The old rules themselves stay until the end: a refused event is written as JSON under the schema that
    // accepted it.
    std::unique_ptr<ir::RuleSet> old_rs = std::exchange(rs, std::move(next_rs));
    const std::string old_type_field = opts.type_field;
    opts = n.opts;
    bundle_hash = n.bundle_hash;
    out_opts = n.out_opts;
    engine_used = std::move(used);
    engine_warning = std::move(warning);
    build_views();

    // Again into the buffer, in arrival order (their sources kept for a later swap).
    std::vector<size_t> order(held.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return held[a].seq < held[b].seq; });
    rep.buffered = held.size();
    for (size_t i : order) {
        const ir::Event& e = held[i];
        ir::Event ev;
        runtime::DecodeError err;
        if (redecode(e, src[i], ev, err)) {
            ev.seq = e.seq;
            reorder.push(std::move(ev));
            if (keep_sources()) sources.add(e.seq) = std::move(src[i]);
            continue;
        }
        ++st.dead_letters;
        RefusedEvent& r = rep.refused.emplace_back();
        r.line = e.line;
        r.reason = reason(err);
        if (src[i].typed) {
            r.json = embed::typed_event_json(*src[i].typed, *old_rs, old_type_field);
            r.typed = std::move(src[i].typed);
        } else {
            r.json = std::move(src[i].json);
        }
    }
    return true;
}

bool Engine::Impl::adopt_pool(const std::vector<std::string>& strings, std::string& error) {
    ir::StringPool p;
    for (size_t i = 0; i < strings.size(); ++i) {
        if (p.intern(strings[i]) != i) {
            error = "string pool: a duplicate string";
            return false;
        }
    }
    exec.reset(); // it and the decoders hold ids of the pool being replaced
    decoder.reset();
    typed.reset();
    pool = std::move(p);
    const bool same_ids = runtime::bind_strings(*rs, pool);
    exec =
        embed::make_executor(*rs, pool, opts, executor_options(opts), engine_used, engine_warning, same_ids);
    build_views();
    return true;
}

bool Engine::swap_rules(std::unique_ptr<Engine> next, SwapReport* report, std::string* error) {
    SwapReport local;
    SwapReport& rep = report ? *report : local;
    rep = SwapReport{};
    std::string why;
    if (!next)
        why = "no engine given";
    else if (next.get() == this)
        why = "an engine cannot take its own rules";
    if (why.empty() && impl_->swap(*next->impl_, rep, why)) return true;
    if (error) *error = "swap_rules: " + why;
    return false;
}

} // namespace ethogram
