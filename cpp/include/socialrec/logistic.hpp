// The logistic link g(x) = 1 / (1 + exp(-x)) of the rating models defined on [0, 1] ratings (DESIGN §4).
#pragma once
#include <cmath>

#include "socialrec/isa.hpp"

SOCIALREC_KERNELS_BEGIN

template <class T>
SOCIALREC_INLINE T logistic(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

SOCIALREC_KERNELS_END
