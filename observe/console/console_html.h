// The console page (observe/console/index.html), compiled in by CMake so that the broker serves it with no
// files beside the binary.
#pragma once

namespace fjord::observe {

extern const char* const kConsoleHtml;

}  // namespace fjord::observe
