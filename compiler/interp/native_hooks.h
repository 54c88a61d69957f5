// native_hooks.h: the optional table through which a native executor (compiler/jit) plugs compiled
// expression code into the interpreter's shared state machinery. Null entries are interpreted.
#pragma once

#include "compiler/ir/value.h"

#include <cstdint>
#include <vector>

namespace ethogram::interp {

struct EvalContext;
class ExprEvaluator;

/// What compiled code reads: the current event's fields at fixed offsets (`fields[slot]`), its dwell
/// and type, and (for the runtime ABI callbacks: step events, session attributes, aggregates) the
/// evaluation context. Standard layout: compiled code reads it at offsetof() positions.
struct NativeFrame {
    const ir::Value* fields = nullptr; ///< the current event's fields, null when there is none
    const ir::Value* dwell = nullptr;  ///< the current event's dwell, null when there is none
    uint32_t nfields = 0;
    uint32_t type = 0; ///< the current event's type index
    const EvalContext* ctx = nullptr;
    ExprEvaluator* eval = nullptr;
    /// Storage for the current event's dwell (`dwell` points here): a stored event keeps it in 8 bytes.
    ir::Value dwell_value;
};

/// A compiled expression tree: writes its value to `out` and returns 0, or returns non-zero when it met
/// a value outside the types it was specialised for (the caller then interprets the expression).
using NativeExprFn = int32_t (*)(const NativeFrame* frame, ir::Value* out);
/// The per-event-type entry point: evaluates, once per event, every pattern step test (type and
/// predicate) that depends on the current event only, and sets bit i of `bits` when test i holds.
/// Returns non-zero when it met an unexpected value type: the bits are then ignored (all interpreted).
using NativeDispatchFn = int32_t (*)(const NativeFrame* frame, uint64_t* bits);

constexpr uint32_t kNoBit = UINT32_MAX;

struct NativeHooks {
    std::vector<NativeExprFn> exprs;             ///< per ExprId; null = interpret
    std::vector<NativeDispatchFn> dispatch;      ///< per event type; null = no step tests cached
    std::vector<std::vector<uint32_t>> step_bit; ///< per rule, per pattern step: its bit or kNoBit
    uint32_t nbits = 0;
};

} // namespace ethogram::interp
