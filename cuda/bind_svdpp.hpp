// The SVD++ rating pass's fields read from the epoch dicts: shared by bind_svdpp.cpp and bind_trustsvd.cpp
// (TrustSVD's rating pass is SVD++'s with the trust part, as cpp/include/socialrec/models/trustsvd.hpp).
#pragma once
#include "bindings.hpp"
#include "models/svdpp.hpp"

namespace socialrec::cuda::bind {

// SVD++'s fields: the groups {users, offsets, items, values} and user/item/implicit factors, biases, hyper.
SVDppPassArgs read_svdpp_pass(const py::dict& arrays, const py::dict& hyper);

}  // namespace socialrec::cuda::bind
