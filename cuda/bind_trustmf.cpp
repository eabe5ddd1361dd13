// socialrec._cuda.trustmf_epoch: the rating pass and the trust pass, each a logistic pair pass with two steps
// per record, truster model first (cpp/include/socialrec/models/trustmf.hpp; the dicts of cuda/bindings.hpp).
#include "bind_logistic.hpp"
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_trustmf(const py::dict& arrays, const py::dict& hyper) {
    const Storage storage = storage_of(arrays);
    const auto factor = [&](const char* key) { return factor_ptr(arrays, key, storage, -1); };
    // Truster model (B, V, W) and trustee model (W2, V2, B2), as trustmf.hpp names them.
    void* user_factors = factor("user_factors");
    void* trustee_user_factors = factor("trustee_user_factors");
    const auto global_bias = scalar<float>(hyper, "global_bias");
    const auto lambda_t = scalar<float>(hyper, "trust_regularization");
    // each record's ids index both models' matrices: the two user sides (and the trust sides) must have equal rows
    same_rows(arrays, {"user_factors", "trustee_user_factors", "trustee_factors", "trustee_truster_factors"});
    same_rows(arrays, {"item_factors", "trustee_item_factors"});
    auto ratings = records_pass<LogisticPassArgs>(arrays, hyper, "ratings", kRatingPass, "user_factors",
                                                  "item_factors");
    ratings.sides[0] = LogisticSide{user_factors, factor("item_factors"), 1.0f, 1.0f, global_bias};
    ratings.sides[1] = LogisticSide{trustee_user_factors, factor("trustee_item_factors"), 1.0f, 1.0f, global_bias};
    if (biased(hyper)) {  // each model's own b_u, b_i inside its rating term's link (trustmf.hpp)
        read_side_biases(arrays, hyper, ratings.sides[0], "user_bias", "user_factors", "item_bias", "item_factors");
        read_side_biases(arrays, hyper, ratings.sides[1], "trustee_user_bias", "trustee_user_factors",
                         "trustee_item_bias", "trustee_item_factors");
    }
    auto trust = records_pass<LogisticPassArgs>(arrays, hyper, "trust", kLinkPass, "user_factors", "trustee_factors");
    trust.sides[0] = LogisticSide{user_factors, factor("trustee_factors"), lambda_t, 1.0f, 0.0f};
    trust.sides[1] = LogisticSide{factor("trustee_truster_factors"), trustee_user_factors, lambda_t, 1.0f, 0.0f};
    for (LogisticPassArgs* pass : {&ratings, &trust}) {
        SOCIALREC_READ(hyper, *pass, regularization);
        pass->n_sides = 2;
    }
    return {bind_pass(logistic_pair_pass, ratings), bind_pass(logistic_pair_pass, trust)};
}

const EpochBinding trustmf_binding{"trustmf_epoch", 2, &read_trustmf,
                           "One TrustMF epoch (rating records, then trust records); returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
