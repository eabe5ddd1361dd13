// Which kernel variant runs: the variants compiled into this build, those this CPU can run, and the choice
// (the widest supported, or the one SOCIALREC_SIMD names). Read once at import by module.cpp.
#pragma once
#include <string>
#include <vector>

#include "socialrec/kernel_table.hpp"

namespace socialrec::bind {

struct SimdChoice {
    const KernelTable* table = nullptr;  // null when nothing can run: `error` says why
    std::string error;
    std::vector<std::string> compiled;   // narrowest first
    std::vector<std::string> supported;  // the compiled variants this CPU can run, narrowest first
};

// `forced`: the value of SOCIALREC_SIMD (null or empty: pick the widest supported variant).
SimdChoice choose_simd(const char* forced);

}  // namespace socialrec::bind
