// runtime_abi.cpp: the runtime ABI of generated code: reads that need the interpreter's state (bound
// step events, sessions, aggregates) and string operations that need the string pool.
#include "compiler/jit/runtime_abi.h"

#include "compiler/interp/aggregates.h"
#include "compiler/interp/expr_eval.h"
#include "compiler/interp/native_hooks.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <string>

namespace {

using ethogram::interp::NativeFrame;
using ethogram::ir::Value;

std::string_view view(const NativeFrame* f, int64_t id) {
    return f->eval->pool().view(static_cast<uint32_t>(id));
}

} // namespace

extern "C" {

// The value of Field expression `expr` reading a bound step event (EventRef::Step), as the interpreter
// reads it: the candidate when it is that step, else the step's single bound event, else missing.
static void etho_rt_step_field(const NativeFrame* f, uint32_t expr, Value* out) {
    const auto& e = f->eval->ruleset().exprs[expr];
    const ethogram::interp::EvalContext& ctx = *f->ctx;
    const ethogram::interp::StoredEvent* ev = nullptr;
    if (e.ref == ethogram::ir::EventRef::Current || e.step == ctx.candidate_step) {
        ev = ctx.current;
    } else if (ctx.steps) {
        const ethogram::interp::StepEvents bound = ctx.steps->step(e.step);
        if (bound.size() == 1) ev = bound.front();
    }
    *out = ev ? ethogram::interp::read_field(e, *ev) : Value::missing();
}

static void etho_rt_session_attr(const NativeFrame* f, uint32_t attr, Value* out) {
    const ethogram::interp::SessionState* s = f->ctx ? f->ctx->session : nullptr;
    if (!s || !s->open()) {
        *out = Value::missing();
        return;
    }
    switch (static_cast<ethogram::ir::SessionAttr>(attr)) {
    case ethogram::ir::SessionAttr::Duration: *out = Value::duration(s->last() - s->start); return;
    case ethogram::ir::SessionAttr::Events: *out = Value::integer(static_cast<int64_t>(s->count)); return;
    case ethogram::ir::SessionAttr::Start: *out = Value::timestamp(s->start); return;
    case ethogram::ir::SessionAttr::Last: *out = Value::timestamp(s->last()); return;
    }
    *out = Value::missing();
}

static void etho_rt_aggregate(const NativeFrame* f, uint32_t agg, Value* out) {
    *out = ethogram::interp::eval_aggregate(f->eval->ruleset().aggregates[agg], *f->ctx, *f->eval);
}

static int32_t etho_rt_str_cmp(const NativeFrame* f, int64_t a, int64_t b) {
    int c = view(f, a).compare(view(f, b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

static int32_t etho_rt_str_pred(const NativeFrame* f, uint32_t fn, int64_t a, int64_t b) {
    std::string_view s = view(f, a), p = view(f, b);
    switch (static_cast<ethogram::ir::Builtin>(fn)) {
    case ethogram::ir::Builtin::StartsWith: return s.starts_with(p);
    case ethogram::ir::Builtin::EndsWith: return s.ends_with(p);
    default: return s.find(p) != std::string_view::npos;
    }
}

static int64_t etho_rt_lower(const NativeFrame* f, int64_t id) {
    std::string low(view(f, id));
    for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return f->eval->pool().intern(low);
}

static int64_t etho_rt_len(const NativeFrame* f, int64_t id) {
    return static_cast<int64_t>(view(f, id).size());
}

static int64_t etho_rt_llround(double x) {
    return std::llround(x);
}

} // extern "C"

namespace ethogram::jit {

std::vector<std::pair<std::string, void*>> runtime_abi_symbols() {
    auto addr = [](auto* fn) { return reinterpret_cast<void*>(fn); };
    return {
        {kAbiStepField, addr(&etho_rt_step_field)},
        {kAbiSessionAttr, addr(&etho_rt_session_attr)},
        {kAbiAggregate, addr(&etho_rt_aggregate)},
        {kAbiStrCmp, addr(&etho_rt_str_cmp)},
        {kAbiStrPred, addr(&etho_rt_str_pred)},
        {kAbiLower, addr(&etho_rt_lower)},
        {kAbiLen, addr(&etho_rt_len)},
        {kAbiLlround, addr(&etho_rt_llround)},
        {"fmod", addr(static_cast<double (*)(double, double)>(&::fmod))},
        {"memcpy", addr(&::memcpy)},
        {"memset", addr(&::memset)},
        {"memmove", addr(&::memmove)},
    };
}

} // namespace ethogram::jit
