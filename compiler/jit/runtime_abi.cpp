// runtime_abi.cpp: the runtime ABI of generated code: reads that need the interpreter's state (bound
// step events, aggregates) and string operations that need the string pool.
#include "compiler/jit/runtime_abi.h"

#include "compiler/interp/aggregates.h"
#include "compiler/interp/expr_eval.h"
#include "compiler/interp/native_hooks.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <string>

namespace {

using ethogram::interp::EvalContext;
using ethogram::interp::ExprEvaluator;
using ethogram::interp::StoredEvent;
using ethogram::ir::Value;

std::string_view view(ExprEvaluator* eval, int64_t id) {
    return eval->pool().view(static_cast<uint32_t>(id));
}

} // namespace

extern "C" {

// The event pattern step `step` names for a Field expression reading a bound step (EventRef::Step), as
// the interpreter finds it: the candidate when it is that step, else the step's single bound event, else
// none (null: the field reads as missing). The field itself is read by the generated code, inline.
static const StoredEvent* etho_rt_step_event(const EvalContext* ctx, uint32_t step) {
    return ethogram::interp::step_event(*ctx, step);
}

static void etho_rt_aggregate(const EvalContext* ctx, ExprEvaluator* eval, uint32_t agg, Value* out) {
    *out = ethogram::interp::eval_aggregate(eval->ruleset().aggregates[agg], *ctx, *eval);
}

static int32_t etho_rt_str_cmp(ExprEvaluator* eval, int64_t a, int64_t b) {
    int c = view(eval, a).compare(view(eval, b));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

static int32_t etho_rt_str_pred(ExprEvaluator* eval, uint32_t fn, int64_t a, int64_t b) {
    std::string_view s = view(eval, a), p = view(eval, b);
    switch (static_cast<ethogram::ir::Builtin>(fn)) {
    case ethogram::ir::Builtin::StartsWith: return s.starts_with(p);
    case ethogram::ir::Builtin::EndsWith: return s.ends_with(p);
    default: return s.find(p) != std::string_view::npos;
    }
}

static int64_t etho_rt_lower(ExprEvaluator* eval, int64_t id) {
    std::string low(view(eval, id));
    for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return eval->pool().intern(low);
}

static int64_t etho_rt_len(ExprEvaluator* eval, int64_t id) {
    return static_cast<int64_t>(view(eval, id).size());
}

static int64_t etho_rt_llround(double x) {
    return std::llround(x);
}

} // extern "C"

namespace ethogram::jit {

std::vector<std::pair<std::string, void*>> runtime_abi_symbols() {
    auto addr = [](auto* fn) { return reinterpret_cast<void*>(fn); };
    return {
        {kAbiStepEvent, addr(&etho_rt_step_event)},
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
