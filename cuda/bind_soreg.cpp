// socialrec._cuda.soreg_epoch: the PMF rating pass on r - mu, then SR2's edge pass or SR1's mean-pull user pass
// (cpp/include/socialrec/models/soreg.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/biased_mf.hpp"
#include "models/social_mf.hpp"
#include "models/soreg.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

struct SoRegEpoch {
    BiasedMFDeviceArgs ratings;
    EdgePassArgs edges;      // SR2 ("edges" in the state)
    MeanPullArgs users;      // SR1 ("users" in the state)
    bool average_based = false;
};

SoRegEpoch read_soreg(const py::dict& arrays, const py::dict& hyper) {
    SoRegEpoch e;
    const Storage storage = storage_of(arrays);
    void* user_factors = factor_ptr(arrays, "user_factors", storage, -1);
    const py::dict ratings = nested(arrays, "ratings");  // (u, i, r - mu): PMF, no biases
    e.ratings.n = size_of(ratings, "values");
    e.ratings.users = device_ptr<const std::int32_t>(ratings, "a", e.ratings.n);
    e.ratings.items = device_ptr<const std::int32_t>(ratings, "b", e.ratings.n);
    e.ratings.values = device_ptr<const float>(ratings, "values", e.ratings.n);
    e.ratings.user_factors = user_factors;
    e.ratings.item_factors = factor_ptr(arrays, "item_factors", storage, -1);
    SOCIALREC_READ(hyper, e.ratings, factors, learning_rate, regularization);
    e.ratings.storage = e.users.storage = e.edges.storage = storage;
    e.ratings.biased = false;
    SOCIALREC_READ(hyper, e, average_based);
    if (e.average_based) {  // SR1: beta pulls each user towards the Sim-weighted mean of its trustees
        read_user_list(nested(arrays, "users"), e.users);
        SOCIALREC_READ(hyper, e.users, factors, learning_rate);
        e.users.weight = scalar<float>(hyper, "social_regularization");
        e.users.user_factors = user_factors;
        e.users.pass = kUserPass;
    } else {  // SR2: one step per edge with Sim > 0
        read_records(nested(arrays, "edges"), e.edges);
        SOCIALREC_READ(hyper, e.edges, factors, learning_rate, social_regularization);
        e.edges.user_factors = user_factors;
        e.edges.pass = kLinkPass;
    }
    return e;
}

void run_soreg(SoRegEpoch e, double* loss, const Epoch& at) {
    at.run(biased_mf_pass, e.ratings, loss);
    if (e.average_based)
        at.run(mean_pull_pass, e.users, loss + 1);
    else
        at.run(soreg_edge_pass, e.edges, loss + 1);
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<SoRegEpoch>(m, "soreg_epoch", 2, &read_soreg, &run_soreg,
                               "One SoReg epoch (PMF rating records on r - mu, then SR2's edges or SR1's users); "
                               "returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
