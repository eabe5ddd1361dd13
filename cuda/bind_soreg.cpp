// socialrec._cuda.soreg_epoch: the BiasedMF rating pass on r - mu (biased: with b_u, b_i and mu = 0; else PMF), then SR2's edge pass or SR1's mean-pull user pass
// (cpp/include/socialrec/models/soreg.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/biased_mf.hpp"
#include "models/social_mf.hpp"
#include "models/soreg.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

EpochPlan read_soreg(const py::dict& arrays, const py::dict& hyper) {
    BiasedMFDeviceArgs ratings;
    const Storage storage = storage_of(arrays);
    void* user_factors = factor_ptr(arrays, "user_factors", storage, -1);
    const py::dict records = nested(arrays, "ratings");  // (u, i, r - mu)
    ratings.n = size_of(records, "values");
    const std::int64_t n_users = rows_of(arrays, "user_factors"), n_items = rows_of(arrays, "item_factors");
    ratings.users = device_ids(records, "a", ratings.n, n_users);
    ratings.items = device_ids(records, "b", ratings.n, n_items);
    ratings.values = device_ptr<const float>(records, "values", ratings.n);
    ratings.user_factors = user_factors;
    ratings.item_factors = factor_ptr(arrays, "item_factors", storage, -1);
    SOCIALREC_READ(hyper, ratings, factors, learning_rate, regularization, biased);
    ratings.storage = storage;
    ratings.global_bias = 0;  // the records hold r - mu (soreg.hpp: BiasedMF's step with mu = 0)
    if (ratings.biased) {     // additive b_u, b_i (soreg.hpp), float32, one per user / item
        SOCIALREC_READ(hyper, ratings, bias_regularization);
        ratings.user_bias = device_ptr<float>(arrays, "user_bias", n_users);
        ratings.item_bias = device_ptr<float>(arrays, "item_bias", n_items);
    }
    if (scalar<bool>(hyper, "average_based")) {  // SR1: beta pulls each user towards the Sim-weighted mean
        MeanPullArgs users;                       // of its trustees ("users" in the state)
        read_user_list(nested(arrays, "users"), users, n_users);
        SOCIALREC_READ(hyper, users, factors, learning_rate);
        users.weight = scalar<float>(hyper, "social_regularization");
        users.storage = storage;
        users.user_factors = user_factors;
        users.pass = kUserPass;
        return {bind_pass(biased_mf_pass, ratings), bind_pass(mean_pull_pass, users)};
    }
    // SR2: one step per edge with Sim > 0 ("edges" in the state)
    auto edges = records_pass<EdgePassArgs>(arrays, hyper, "edges", kLinkPass, "user_factors", "user_factors");
    SOCIALREC_READ(hyper, edges, social_regularization);
    edges.user_factors = user_factors;
    return {bind_pass(biased_mf_pass, ratings), bind_pass(soreg_edge_pass, edges)};
}

const EpochBinding soreg_binding{"soreg_epoch", 2, &read_soreg,
                           "One SoReg epoch (PMF rating records on r - mu, then SR2's edges or SR1's users); "
                           "returns the epoch loss."};

}  // namespace
}  // namespace socialrec::cuda::bind
