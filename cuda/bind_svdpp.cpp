// socialrec._cuda.svdpp_epoch: the user-grouped rating pass (cpp/include/socialrec/models/svdpp.hpp; the dicts
// of cuda/bindings.hpp). TrustSVD's rating pass reads the same fields plus its trust part (bind_trustsvd.cpp).
#include "bind_svdpp.hpp"

#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {

SVDppPassArgs read_svdpp_pass(const py::dict& arrays, const py::dict& hyper) {
    SVDppPassArgs a;
    const std::int64_t n_users = rows_of(arrays, "user_factors");
    const std::int64_t n_items = same_rows(arrays, {"item_factors", "implicit_factors"});
    read_groups(nested(arrays, "groups"), a, n_users, n_items);
    a.storage = storage_of(arrays);
    SOCIALREC_READ_FACTORS(arrays, a, user_factors, item_factors, implicit_factors);
    a.user_bias = device_ptr<float>(arrays, "user_bias", n_users);
    a.item_bias = device_ptr<float>(arrays, "item_bias", n_items);
    SOCIALREC_READ(hyper, a, factors, global_bias, learning_rate, regularization, bias_regularization);
    a.pass = kRatingPass;
    return a;
}

namespace {

EpochPlan read_svdpp(const py::dict& arrays, const py::dict& hyper) {
    return {bind_pass(svdpp_pass, read_svdpp_pass(arrays, hyper))};
}

const Registrar svdpp_registrar{[](py::module_& m) { m.attr("SVDPP_MAX_FACTORS") = kSVDppMaxFactors; }};
const EpochBinding svdpp_binding{"svdpp_epoch", 1, &read_svdpp,
                           "One SVD++ epoch (user-grouped; factors <= SVDPP_MAX_FACTORS); returns the loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
