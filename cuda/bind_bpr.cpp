// socialrec._cuda.bpr_epoch and sbpr_epoch: n_pool samples drawn on the device a epoch
// (cpp/include/socialrec/models/bpr.hpp, sbpr.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/bpr.hpp"

namespace socialrec::cuda::bind {
namespace {

RankingPassArgs read_bpr(const py::dict& arrays, const py::dict& hyper) {
    RankingPassArgs a;
    SOCIALREC_READ(hyper, a, factors, learning_rate, regularization, bias_regularization);
    a.storage = storage_of(arrays);
    SOCIALREC_READ_FACTORS(arrays, a, user_factors, item_factors);
    const std::int64_t n_users = rows_of(arrays, "user_factors");
    a.n_items = static_cast<std::int32_t>(rows_of(arrays, "item_factors"));
    a.item_bias = device_ptr<float>(arrays, "item_bias", a.n_items);
    const std::int64_t n_seen = size_of(arrays, "indices");
    a.indptr = device_offsets(arrays, "indptr", n_users, n_seen);
    a.indices = device_ids(arrays, "indices", n_seen, a.n_items);
    a.n_pool = size_of(arrays, "pool_users");
    a.pool_users = device_ids(arrays, "pool_users", a.n_pool, n_users);
    a.pool_items = device_ids(arrays, "pool_items", a.n_pool, a.n_items);
    a.n_samples = a.n_pool;  // one epoch: as many samples as positive pairs (bpr.hpp)
    return a;
}

RankingPassArgs read_sbpr(const py::dict& arrays, const py::dict& hyper) {
    RankingPassArgs a = read_bpr(arrays, hyper);
    const std::int64_t n_social = size_of(arrays, "social_items");
    a.social_indptr = device_offsets(arrays, "social_indptr", rows_of(arrays, "user_factors"), n_social);
    a.social_items = device_ids(arrays, "social_items", n_social, a.n_items);
    a.social_counts = device_ptr<const std::int32_t>(arrays, "social_counts", n_social);
    if (n_social > 0 && extremes(arrays, "social_counts").first < 1)  // s_uk, a count (sbpr.hpp)
        throw py::value_error("'social_counts' must be positive");
    SOCIALREC_READ(hyper, a, social_weight);
    return a;
}

EpochPlan plan_bpr(const py::dict& arrays, const py::dict& hyper) {
    return {bind_pass(ranking_pass, read_bpr(arrays, hyper))};
}

EpochPlan plan_sbpr(const py::dict& arrays, const py::dict& hyper) {
    return {bind_pass(ranking_pass, read_sbpr(arrays, hyper))};
}

const EpochBinding bpr_binding{"bpr_epoch", 1, &plan_bpr,
                       "One BPR epoch of n_pool samples drawn on the device; returns the loss."};
const EpochBinding sbpr_binding{"sbpr_epoch", 1, &plan_sbpr,
                        "One SBPR epoch of n_pool samples drawn on the device; returns the loss."};

const Registrar bpr_registrar{[](py::module_& m) {
    m.def("sample_key", &sample_key, py::arg("seed"), py::arg("epoch"),
          "The stream key of an epoch's device samples (host-side; see host_draw_samples).");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
