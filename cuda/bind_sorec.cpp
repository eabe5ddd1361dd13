// socialrec._cuda.sorec_epoch: the rating pass then the link pass, both logistic pair passes
// (cpp/include/socialrec/models/sorec.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

struct SoRecEpoch {
    LogisticPassArgs ratings, links;
};

SoRecEpoch read_sorec(const py::dict& arrays, const py::dict& hyper) {
    SoRecEpoch e;
    const Storage storage = storage_of(arrays);
    void* user_factors = factor_ptr(arrays, "user_factors", storage, -1);
    void* item_factors = factor_ptr(arrays, "item_factors", storage, -1);
    void* link_factors = factor_ptr(arrays, "link_factors", storage, -1);
    const auto global_bias = scalar<float>(hyper, "global_bias");
    const auto social_regularization = scalar<float>(hyper, "social_regularization");
    for (LogisticPassArgs* pass : {&e.ratings, &e.links}) {
        SOCIALREC_READ(hyper, *pass, factors, learning_rate, regularization);
        pass->storage = storage;
    }
    read_records(nested(arrays, "ratings"), e.ratings);
    e.ratings.sides[0] = LogisticSide{user_factors, item_factors, 1.0f, 1.0f, global_bias};  // (u, i, r~)
    e.ratings.pass = kRatingPass;
    read_records(nested(arrays, "links"), e.links);
    // (u, k, c*_uk): data and penalty weight lambda_C, no offset (sorec.hpp)
    e.links.sides[0] = LogisticSide{user_factors, link_factors, social_regularization, social_regularization, 0.0f};
    e.links.pass = kLinkPass;
    return e;
}

void run_sorec(SoRecEpoch e, double* loss, const Epoch& at) {
    at.run(logistic_pair_pass, e.ratings, loss);
    at.run(logistic_pair_pass, e.links, loss + 1);
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<SoRecEpoch>(m, "sorec_epoch", 2, &read_sorec, &run_sorec,
                               "One SoRec epoch (rating records, then link records); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
