// socialrec._cuda.trustmf_epoch: the rating pass and the trust pass, each a logistic pair pass with two steps
// per record, truster model first (cpp/include/socialrec/models/trustmf.hpp; the dicts of cuda/bindings.hpp).
#include "bindings.hpp"
#include "models/logistic_pair.hpp"
#include "socialrec/types.hpp"

namespace socialrec::cuda::bind {
namespace {

struct TrustMFEpoch {
    LogisticPassArgs ratings, trust;
};

TrustMFEpoch read_trustmf(const py::dict& arrays, const py::dict& hyper) {
    TrustMFEpoch e;
    const Storage storage = storage_of(arrays);
    const auto factor = [&](const char* key) { return factor_ptr(arrays, key, storage, -1); };
    // Truster model (B, V, W) and trustee model (W2, V2, B2), as trustmf.hpp names them.
    void* user_factors = factor("user_factors");
    void* item_factors = factor("item_factors");
    void* trustee_factors = factor("trustee_factors");
    void* trustee_user_factors = factor("trustee_user_factors");
    void* trustee_item_factors = factor("trustee_item_factors");
    void* trustee_truster_factors = factor("trustee_truster_factors");
    const auto global_bias = scalar<float>(hyper, "global_bias");
    const auto trust_regularization = scalar<float>(hyper, "trust_regularization");
    for (LogisticPassArgs* pass : {&e.ratings, &e.trust}) {
        SOCIALREC_READ(hyper, *pass, factors, learning_rate, regularization);
        pass->storage = storage;
        pass->n_sides = 2;
    }
    read_records(nested(arrays, "ratings"), e.ratings);
    e.ratings.sides[0] = LogisticSide{user_factors, item_factors, 1.0f, 1.0f, global_bias};
    e.ratings.sides[1] = LogisticSide{trustee_user_factors, trustee_item_factors, 1.0f, 1.0f, global_bias};
    e.ratings.pass = kRatingPass;
    read_records(nested(arrays, "trust"), e.trust);
    e.trust.sides[0] = LogisticSide{user_factors, trustee_factors, trust_regularization, 1.0f, 0.0f};
    e.trust.sides[1] = LogisticSide{trustee_truster_factors, trustee_user_factors, trust_regularization, 1.0f, 0.0f};
    e.trust.pass = kLinkPass;
    return e;
}

void run_trustmf(TrustMFEpoch e, double* loss, const Epoch& at) {
    at.run(logistic_pair_pass, e.ratings, loss);
    at.run(logistic_pair_pass, e.trust, loss + 1);
}

const Registrar registrar{[](py::module_& m) {
    def_cuda_epoch<TrustMFEpoch>(m, "trustmf_epoch", 2, &read_trustmf, &run_trustmf,
                                 "One TrustMF epoch (rating records, then trust records); returns the epoch loss.");
}};

}  // namespace
}  // namespace socialrec::cuda::bind
