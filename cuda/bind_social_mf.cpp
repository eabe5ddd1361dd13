// socialrec._cuda.social_mf_epoch: the logistic rating pass, then the mean-pull user pass
// (cpp/include/socialrec/models/social_mf.hpp; the dicts of cuda/bindings.hpp).
#include "bind_logistic.hpp"
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "models/social_mf.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_social_mf(const py::dict& arrays, const py::dict& hyper) {
    auto ratings = records_pass<LogisticPassArgs>(arrays, hyper, "ratings", kRatingPass, "user_factors",
                                                  "item_factors");
    void* user_factors = factor_ptr(arrays, "user_factors", ratings.storage, -1);
    ratings.sides[0] = LogisticSide{user_factors, factor_ptr(arrays, "item_factors", ratings.storage, -1), 1.0f,
                                    1.0f, scalar<float>(hyper, "global_bias")};
    if (biased(hyper))  // b_u, b_i inside the rating term's link (social_mf.hpp)
        read_side_biases(arrays, hyper, ratings.sides[0], "user_bias", "user_factors", "item_bias", "item_factors");
    SOCIALREC_READ(hyper, ratings, regularization);
    MeanPullArgs trust;
    SOCIALREC_READ(hyper, trust, factors, learning_rate);
    trust.storage = ratings.storage;
    read_user_list(nested(arrays, "trust"), trust, rows_of(arrays, "user_factors"));
    trust.user_factors = user_factors;
    trust.weight = scalar<float>(hyper, "social_regularization");
    if (trust.weight == 0.0f) trust.n = 0;  // lambda_T = 0: the plain logistic model, no user pass (CPU alike)
    trust.pass = kUserPass;
    // n = 0: the user pass only zeroes its loss slot
    return {bind_pass(logistic_pair_pass, ratings), bind_pass(mean_pull_pass, trust)};
}

const EpochBinding social_mf_binding{"social_mf_epoch", 2, &read_social_mf,
                           "One SocialMF epoch (rating records, then the user pass); returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
