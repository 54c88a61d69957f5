// runtime_abi.h: the only functions generated code may call (registered by name as absolute symbols;
// nothing else of the process is visible to it).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ethogram::jit {

inline constexpr const char* kAbiStepEvent = "etho_rt_step_event";
inline constexpr const char* kAbiAggregate = "etho_rt_aggregate";
inline constexpr const char* kAbiStrCmp = "etho_rt_str_cmp";
inline constexpr const char* kAbiStrPred = "etho_rt_str_pred";
inline constexpr const char* kAbiLower = "etho_rt_lower";
inline constexpr const char* kAbiLen = "etho_rt_len";
inline constexpr const char* kAbiLlround = "etho_rt_llround";

/// Every symbol generated code may reference, with its address: the functions above plus the C library
/// routines LLVM itself may emit calls to (fmod for `%` on floats, memcpy/memset/memmove).
std::vector<std::pair<std::string, void*>> runtime_abi_symbols();

} // namespace ethogram::jit
