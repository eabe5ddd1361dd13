// socialrec._core.soreg_epoch and socialrec._core.edge_similarity
#include "bind_args.hpp"
#include "bind_checks.hpp"
#include "socialrec/similarity.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, SoRegArgs<T>& a) {
    SOCIALREC_READ((grid)(user_factors)(item_factors)(average_based)(biased)(factors)(learning_rate)
                   (regularization)(bias_regularization)(social_regularization));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias));  // b_u, b_i (updated in place)
    if (a.average_based)  // SR1: each user's pull towards its trustees' mean
        SOCIALREC_READ((social_users)(trust_offsets)(trust_dst)(trust_sim));
    else  // SR2: one record per trust edge
        SOCIALREC_READ((edges));
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_grid(a.grid, n_users, n_items, "grid");
    if (a.biased) check_biases(d.arrays, n_users, n_items);
    read_penalty_weights(d, a, n_users, n_items);
    if (a.average_based) {
        check_ids(a.social_users.records, a.social_users.size, n_users, "social_users");
        check_size(d.arrays, "trust_offsets", n_users + 1);
        const std::int64_t n_edges = size_of(d.arrays, "trust_dst");
        check_size(d.arrays, "trust_sim", n_edges);
        check_offsets(a.trust_offsets, n_users, n_edges, "'trust_offsets'");
        check_ids(a.trust_dst, n_edges, n_users, "trust_dst");
    } else {
        check_records(a.edges.records, a.edges.size, n_users, n_users, "edges");
    }
}

SOCIALREC_EPOCH(soreg_epoch, SoRegArgs,
                "One SoReg epoch: the stratified rating pass, then the SR2 link or SR1 user pass; returns the "
                "epoch loss.")

namespace {

py::array_t<double> similarity(const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& indptr,
                               const py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>& indices,
                               const py::array_t<float, py::array::c_style | py::array::forcecast>& values,
                               const py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>& src,
                               const py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>& dst,
                               const std::string& kind, int threads) {
    SimilarityKind k;
    if (kind == "pcc") k = SimilarityKind::kPCC;
    else if (kind == "vss") k = SimilarityKind::kVSS;
    else throw py::value_error("similarity kind must be 'pcc' or 'vss', got '" + kind + "'");
    const std::int64_t n_users = indptr.size() - 1;
    if (n_users < 0 || indices.size() != values.size() || indptr.at(n_users) != values.size())
        throw py::value_error("indptr / indices / values do not form a CSR matrix");
    check_offsets(indptr.data(), n_users, values.size(), "indptr");  // the merge reads rows [indptr[u], indptr[u+1])
    if (src.size() != dst.size()) throw py::value_error("src and dst must have the same length");
    const std::int64_t n = src.size();
    for (std::int64_t e = 0; e < n; ++e) {
        if (src.at(e) < 0 || src.at(e) >= n_users || dst.at(e) < 0 || dst.at(e) >= n_users)
            throw py::index_error("edge " + std::to_string(e) + " names a user outside [0, " +
                                  std::to_string(n_users) + ")");
    }
    py::array_t<double> out(n);
    double* o = out.mutable_data();
    const std::int64_t* ip = indptr.data();
    const std::int32_t *ix = indices.data(), *s = src.data(), *d = dst.data();
    const auto* v = values.data();
    {
        py::gil_scoped_release release;
        edge_similarity(ip, ix, v, s, d, n, k, o, threads);
    }
    return out;
}

const Registrar soreg_registrar{[](py::module_& m) {
    m.def("edge_similarity", &similarity, py::arg("indptr"), py::arg("indices"), py::arg("values"), py::arg("src"),
          py::arg("dst"), py::arg("kind"), py::arg("threads") = 0,
          "Similarity ('pcc' mapped to (1 + pcc) / 2, or 'vss') of each pair (src[e], dst[e]) over the items both "
          "rated, from CSR ratings with sorted rows; 0 where undefined.");
}};

}  // namespace
}  // namespace socialrec::bind
