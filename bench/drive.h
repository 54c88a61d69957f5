// drive.h: feeding pre-decoded events to an executor, or to code driven alike (HandWrittenFull).
#pragma once

#include "compiler/ir/event.h"
#include "compiler/ir/value.h"

#include <vector>

namespace ethogram::bench {

/// The executor contract (compiler/ir/executor.h): the watermark to each event's time before the event,
/// then to +infinity at the end of input. `Ex`: an ir::Executor or anything with the same two calls.
template <class Ex, class Sink>
inline void drive(Ex& ex, const std::vector<ir::Event>& events, Sink& sink) {
    for (const ir::Event& e : events) {
        ex.advance_watermark(e.time, sink);
        ex.on_event(e, sink);
    }
    ex.advance_watermark(ir::kTimeInfinity, sink);
}

} // namespace ethogram::bench
