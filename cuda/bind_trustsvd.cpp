// socialrec._cuda.trustsvd_epoch: SVD++'s rating pass with the trust part, then the link pass grouped by
// truster (cpp/include/socialrec/models/trustsvd.hpp; the dicts of cuda/bindings.hpp).
#include "bind_svdpp.hpp"
#include "models/trustsvd.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_trustsvd(const py::dict& arrays, const py::dict& hyper) {
    SVDppPassArgs ratings = read_svdpp_pass(arrays, hyper);
    const py::dict trust = nested(arrays, "trust");
    const std::int64_t n_trust = size_of(trust, "trustees");
    const std::int64_t n_users = same_rows(arrays, {"user_factors", "trustee_factors"});
    ratings.trustee_factors = factor_ptr(arrays, "trustee_factors", ratings.storage, -1);
    ratings.trust_offsets = device_offsets(trust, "offsets", n_users, n_trust);
    ratings.trustees = device_ids(trust, "trustees", n_trust, n_users);
    ratings.item_weight = device_ptr<const float>(trust, "item_weight", rows_of(arrays, "item_factors"));
    ratings.trustee_weight = device_ptr<const float>(trust, "trustee_weight", n_users);
    TrustLinkPassArgs links;  // the trusters' edges, each truster's shuffled once
    links.n = size_of(trust, "trusters");
    links.users = device_ids(trust, "trusters", links.n, n_users);
    links.offsets = ratings.trust_offsets;
    links.items = device_ids(trust, "link_trustees", n_trust, n_users);
    links.values = device_ptr<const float>(trust, "link_values", n_trust);
    links.trustee_weight = ratings.trustee_weight;
    links.user_factors = ratings.user_factors;
    links.trustee_factors = ratings.trustee_factors;
    SOCIALREC_READ(hyper, links, factors, learning_rate, regularization, social_regularization);
    links.storage = ratings.storage;
    links.pass = kLinkPass;
    return {bind_pass(svdpp_pass, ratings), bind_pass(trust_link_pass, links)};
}

const EpochBinding trustsvd_binding{"trustsvd_epoch", 2, &read_trustsvd,
                           "One TrustSVD epoch (user-grouped rating pass, then the link pass grouped by truster; "
                           "factors <= SVDPP_MAX_FACTORS); returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
