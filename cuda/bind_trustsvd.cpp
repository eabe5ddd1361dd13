// socialrec._cuda.trustsvd_epoch: SVD++'s rating pass with the trust part, then the link pass grouped by
// truster (cpp/include/socialrec/models/trustsvd.hpp; the dicts of cuda/bindings.hpp).
#include "bind_svdpp.hpp"
#include "models/trustsvd.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

struct TrustSVDEpoch {
    SVDppPassArgs ratings;
    TrustLinkPassArgs links;
};

TrustSVDEpoch read_trustsvd(const py::dict& arrays, const py::dict& hyper) {
    TrustSVDEpoch e;
    e.ratings = read_svdpp_pass(arrays, hyper);
    const py::dict trust = nested(arrays, "trust");
    const std::int64_t n_trust = size_of(trust, "trustees");
    e.ratings.trustee_factors = factor_ptr(arrays, "trustee_factors", e.ratings.storage, -1);
    e.ratings.trust_offsets = device_ptr<const std::int64_t>(trust, "offsets");
    e.ratings.trustees = device_ptr<const std::int32_t>(trust, "trustees", n_trust);
    e.ratings.item_weight = device_ptr<const float>(trust, "item_weight");
    e.ratings.trustee_weight = device_ptr<const float>(trust, "trustee_weight");
    TrustLinkPassArgs& l = e.links;
    l.n = size_of(trust, "trusters");
    l.trusters = device_ptr<const std::int32_t>(trust, "trusters", l.n);
    l.offsets = e.ratings.trust_offsets;
    l.trustees = device_ptr<const std::int32_t>(trust, "link_trustees", n_trust);  // each truster's, shuffled once
    l.values = device_ptr<const float>(trust, "link_values", n_trust);
    l.trustee_weight = e.ratings.trustee_weight;
    l.user_factors = e.ratings.user_factors;
    l.trustee_factors = e.ratings.trustee_factors;
    SOCIALREC_READ(hyper, l, factors, learning_rate, regularization, social_regularization);
    l.storage = e.ratings.storage;
    l.pass = kLinkPass;
    return e;
}

void run_trustsvd(TrustSVDEpoch e, double* loss, const Epoch& at) {
    at.run(svdpp_pass, e.ratings, loss);
    at.run(trust_link_pass, e.links, loss + 1);
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<TrustSVDEpoch>(m, "trustsvd_epoch", 2, &read_trustsvd, &run_trustsvd,
                                  "One TrustSVD epoch (user-grouped rating pass, then the link pass grouped by "
                                  "truster; factors <= SVDPP_MAX_FACTORS); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
