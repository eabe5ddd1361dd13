// socialrec._cuda.sorec_epoch: the rating pass then the link pass, both logistic pair passes
// (cpp/include/socialrec/models/sorec.hpp; the dicts of cuda/bindings.hpp).
#include "bind_logistic.hpp"
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_sorec(const py::dict& arrays, const py::dict& hyper) {
    const Storage storage = storage_of(arrays);
    void* user_factors = factor_ptr(arrays, "user_factors", storage, -1);
    auto ratings = records_pass<LogisticPassArgs>(arrays, hyper, "ratings", kRatingPass,  // (u, i, r~)
                                                  "user_factors", "item_factors");
    ratings.sides[0] = LogisticSide{user_factors, factor_ptr(arrays, "item_factors", storage, -1), 1.0f, 1.0f,
                                    scalar<float>(hyper, "global_bias")};
    if (biased(hyper))  // b_u, b_i inside the rating term's link (sorec.hpp); the link term has none
        read_side_biases(arrays, hyper, ratings.sides[0], "user_bias", "user_factors", "item_bias", "item_factors");
    auto links = records_pass<LogisticPassArgs>(arrays, hyper, "links", kLinkPass, "user_factors", "link_factors");
    // (u, k, c*_uk): data and penalty weight lambda_C, no offset (sorec.hpp)
    const auto lambda_c = scalar<float>(hyper, "social_regularization");
    links.sides[0] = LogisticSide{user_factors, factor_ptr(arrays, "link_factors", storage, -1), lambda_c, lambda_c,
                                  0.0f};
    SOCIALREC_READ(hyper, ratings, regularization);
    SOCIALREC_READ(hyper, links, regularization);
    return {bind_pass(logistic_pair_pass, ratings), bind_pass(logistic_pair_pass, links)};
}

const EpochBinding sorec_binding{"sorec_epoch", 2, &read_sorec,
                           "One SoRec epoch (rating records, then link records); returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
