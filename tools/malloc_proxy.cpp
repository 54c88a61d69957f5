// malloc_proxy.cpp: links oneTBB's malloc replacement into etho (only built when ETHOGRAM_TBBMALLOC is on).
// Including the header makes etho reference the proxy, so the linker keeps the library even with
// --as-needed; the proxy's malloc/free/new/delete then take precedence over glibc's for the whole process.
#include <tbb/tbbmalloc_proxy.h>
