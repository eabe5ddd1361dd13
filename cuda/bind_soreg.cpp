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
    const auto factors = scalar<std::int32_t>(hyper, "factors");
    const auto learning_rate = scalar<float>(hyper, "learning_rate");
    const auto social_regularization = scalar<float>(hyper, "social_regularization");
    const py::dict ratings = nested(arrays, "ratings");  // (u, i, r - mu): PMF, no biases
    e.ratings.n = size_of(ratings, "values");
    e.ratings.users = device_ptr<const std::int32_t>(ratings, "a", e.ratings.n);
    e.ratings.items = device_ptr<const std::int32_t>(ratings, "b", e.ratings.n);
    e.ratings.values = device_ptr<const float>(ratings, "values", e.ratings.n);
    e.ratings.user_factors = user_factors;
    e.ratings.item_factors = factor_ptr(arrays, "item_factors", storage, -1);
    e.ratings.factors = factors;
    e.ratings.storage = storage;
    e.ratings.biased = false;
    e.ratings.learning_rate = learning_rate;
    e.ratings.regularization = scalar<float>(hyper, "regularization");
    e.average_based = scalar<bool>(hyper, "average_based");
    if (e.average_based) {
        read_user_list(nested(arrays, "users"), e.users);
        e.users.user_factors = user_factors;
        e.users.factors = factors;
        e.users.storage = storage;
        e.users.learning_rate = learning_rate;
        e.users.weight = social_regularization;
        e.users.pass = kUserPass;
    } else {
        read_records(nested(arrays, "edges"), e.edges);
        e.edges.user_factors = user_factors;
        e.edges.factors = factors;
        e.edges.storage = storage;
        e.edges.learning_rate = learning_rate;
        e.edges.social_regularization = social_regularization;
        e.edges.pass = kLinkPass;
    }
    return e;
}

void run_soreg(SoRegEpoch e, double* loss, const Epoch& at) {
    e.ratings.loss = loss;
    biased_mf_pass(e.ratings, at.seed, at.epoch, at.stream);
    if (e.average_based) {
        e.users.loss = loss + 1;
        mean_pull_pass(e.users, at.seed, at.epoch, at.stream);
    } else {
        e.edges.loss = loss + 1;
        soreg_edge_pass(e.edges, at.seed, at.epoch, at.stream);
    }
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<SoRegEpoch>(m, "soreg_epoch", 2, &read_soreg, &run_soreg,
                               "One SoReg epoch (PMF rating records on r - mu, then SR2's edges or SR1's users); "
                               "returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
