// native_hooks.h: the optional table through which a native executor (compiler/jit) plugs compiled
// expression code into the interpreter's shared state machinery. Null entries are interpreted.
#pragma once

#include "compiler/ir/value.h"

#include <cstdint>
#include <vector>

namespace ethogram::interp {

struct EvalContext;
class ExprEvaluator;

/// Compiled code reads the evaluation context itself (no frame is built per call): `EvalContext` and the
/// `StoredEvent` its `current` points to are standard layout, and the generated code reads the current
/// event's fields, field count, type and dwell at their offsetof() positions. `eval` is passed on to the
/// runtime ABI callbacks (step events, session attributes, aggregates, the string pool).
///
/// A compiled expression tree: writes its value to `out` and returns 0, or returns non-zero when it met a
/// value outside the types it was specialised for (the caller then interprets the expression).
using NativeExprFn = int32_t (*)(const EvalContext* ctx, ExprEvaluator* eval, ir::Value* out);
/// A compiled predicate (ExprEvaluator::test without the Value): 1 when it holds, 0 when it does not (a
/// missing or non-Bool value does not hold), negative when it met a value outside the types it was
/// specialised for (the caller then interprets the expression).
using NativeTestFn = int32_t (*)(const EvalContext* ctx, ExprEvaluator* eval);
/// The per-event-type entry point: evaluates, once per event (`ctx->current`), every pattern step test
/// (type and predicate) that depends on the current event only, and sets bit i of `bits` when test i
/// holds. Returns non-zero when it met an unexpected value type: the bits are then ignored (all
/// interpreted).
using NativeDispatchFn = int32_t (*)(const EvalContext* ctx, ExprEvaluator* eval, uint64_t* bits);

constexpr uint32_t kNoBit = UINT32_MAX;

struct NativeHooks {
    std::vector<NativeExprFn> exprs;             ///< per ExprId: its value; null = interpret
    std::vector<NativeTestFn> tests;             ///< per ExprId used as a predicate; null = through eval
    std::vector<NativeDispatchFn> dispatch;      ///< per event type; null = no step tests cached
    std::vector<std::vector<uint32_t>> step_bit; ///< per rule, per pattern step: its bit or kNoBit
    uint32_t nbits = 0;
};

} // namespace ethogram::interp
