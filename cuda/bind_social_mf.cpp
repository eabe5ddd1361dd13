// socialrec._cuda.social_mf_epoch: the logistic rating pass, then the mean-pull user pass
// (cpp/include/socialrec/models/social_mf.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "models/social_mf.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

struct SocialMFEpoch {
    LogisticPassArgs ratings;
    MeanPullArgs trust;
};

SocialMFEpoch read_social_mf(const py::dict& arrays, const py::dict& hyper) {
    SocialMFEpoch e;
    const Storage storage = storage_of(arrays);
    void* user_factors = factor_ptr(arrays, "user_factors", storage, -1);
    read_records(nested(arrays, "ratings"), e.ratings);
    e.ratings.sides[0] = LogisticSide{user_factors, factor_ptr(arrays, "item_factors", storage, -1), 1.0f, 1.0f,
                                      scalar<float>(hyper, "global_bias")};
    SOCIALREC_READ(hyper, e.ratings, factors, learning_rate, regularization);
    SOCIALREC_READ(hyper, e.trust, factors, learning_rate);
    e.ratings.storage = e.trust.storage = storage;
    e.ratings.pass = kRatingPass;
    read_user_list(nested(arrays, "trust"), e.trust);
    e.trust.user_factors = user_factors;
    e.trust.weight = scalar<float>(hyper, "social_regularization");
    if (e.trust.weight == 0.0f) e.trust.n = 0;  // lambda_T = 0: the plain logistic model, no user pass (CPU alike)
    e.trust.pass = kUserPass;
    return e;
}

void run_social_mf(SocialMFEpoch e, double* loss, const Epoch& at) {
    at.run(logistic_pair_pass, e.ratings, loss);
    at.run(mean_pull_pass, e.trust, loss + 1);  // n = 0: only zeroes its loss slot
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<SocialMFEpoch>(m, "social_mf_epoch", 2, &read_social_mf, &run_social_mf,
                                  "One SocialMF epoch (rating records, then the user pass); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
