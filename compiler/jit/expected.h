// expected.h: the JIT's name for the shared value-or-error result (support/expected.h).
#pragma once

#include "support/expected.h"

namespace ethogram::jit {

using ethogram::Error;
using ethogram::Expected;
using ethogram::ok_status;
using ethogram::Status;
using ethogram::Unit;

} // namespace ethogram::jit
