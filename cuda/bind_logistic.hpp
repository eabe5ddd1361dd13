// The bias terms of a logistic pair side read from the epoch dicts (cuda/bindings.hpp), shared by the bindings
// of SoRec, SocialMF and TrustMF: with hyper["biased"], the rating side's user and item biases (float32 device
// arrays of the CPU bindings' keys, one per row of the side's matrices) and hyper["bias_regularization"].
#pragma once
#include <cstdint>

#include "bindings.hpp"
#include "models/logistic_pair.hpp"

namespace socialrec::cuda::bind {

// Whether the epoch trains the biased rating terms (hyper["biased"], as the CPU bindings read it).
inline bool biased(const py::dict& hyper) { return scalar<bool>(hyper, "biased"); }

// side.a_bias = arrays[a_key] (one per row of arrays[a_rows], a factor matrix), side.b_bias = arrays[b_key]
// (one per row of arrays[b_rows]), side.bias_lambda = lambda_b; a missing array or a wrong size or dtype
// raises before any launch.
inline void read_side_biases(const py::dict& arrays, const py::dict& hyper, LogisticSide& side, const char* a_key,
                             const char* a_rows, const char* b_key, const char* b_rows) {
    const auto k = scalar<std::int64_t>(hyper, "factors");
    side.a_bias = device_ptr<float>(arrays, a_key, size_of(arrays, a_rows) / k);
    side.b_bias = device_ptr<float>(arrays, b_key, size_of(arrays, b_rows) / k);
    side.bias_lambda = scalar<float>(hyper, "bias_regularization");
}

}  // namespace socialrec::cuda::bind
