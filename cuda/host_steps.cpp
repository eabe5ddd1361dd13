// Host replays of the CUDA kernels' steps, bound as socialrec._cuda.host_*: they apply a given list of updates
// serially, on the CPU, in float32, by calling the very step templates the kernels call (cuda/models/<model>.hpp)
// with the team of one and the host row layout (hd_team.hpp SerialTeam, SerialSlices: the warp reduction
// becomes a serial loop, a lane's register slice the whole row in memory). tests/test_cuda_steps.py runs them
// against the CPU models' kernels on the same records in the same order, so the device steps -- formulas,
// loads, order of the updates -- are checked without a GPU. This file only checks the arguments and runs the
// steps through one serial driver (serial_replay). Compiled by the host C++ compiler, never by nvcc.
#include "host_steps.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hd_team.hpp"
#include "models/biased_mf.hpp"
#include "models/bpr.hpp"
#include "models/logistic_pair.hpp"
#include "models/rste.hpp"
#include "models/social_mf.hpp"
#include "models/soreg.hpp"
#include "models/svdpp.hpp"
#include "models/trustsvd.hpp"
#include "steps.hpp"

namespace py = pybind11;

namespace socialrec::cuda {
namespace {

// A float32 parameter array updated in place: exact dtype, C-contiguous, writeable; `ndim` 2 (rows x k) or 1.
float* params(py::array a, const char* name, int ndim, std::int64_t* rows, std::int64_t* cols = nullptr) {
    if (!a.dtype().equal(py::dtype::of<float>())) throw py::type_error(std::string(name) + " must be float32");
    if (!(a.flags() & py::array::c_style) || !a.writeable())
        throw py::value_error(std::string(name) + " must be a writeable C-contiguous array");
    if (a.ndim() != ndim) throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) + "-D");
    *rows = a.shape(0);
    if (cols) *cols = ndim == 2 ? a.shape(1) : 1;
    return static_cast<float*>(a.mutable_data());
}

template <class T>
using In = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Checks that every index of `idx` lies in [0, bound).
template <class T>
void check_range(const In<T>& idx, std::int64_t bound, const char* name) {
    const T* p = idx.data();
    for (py::ssize_t k = 0; k < idx.size(); ++k)
        if (p[k] < 0 || std::int64_t(p[k]) >= bound)
            throw py::index_error(std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(p[k]) +
                                  " is out of range [0, " + std::to_string(bound) + ")");
}

void check_same_length(py::ssize_t n, py::ssize_t m, const char* name) {
    if (n != m) throw py::value_error(std::string(name) + " has " + std::to_string(m) + " entries, expected " +
                                      std::to_string(n));
}

void check_k(std::int64_t k, std::int64_t other, const char* name) {
    if (k != other) throw py::value_error(std::string(name) + " has another number of columns");
}

// A pair of optional float32 bias arrays updated in place, one entry per row of the step's two matrices
// (a_rows, b_rows): both None (nullptr, nullptr: the unbiased step) or both given.
struct Biases {
    float* a = nullptr;
    float* b = nullptr;
};
Biases optional_biases(const py::object& a, const char* a_name, std::int64_t a_rows, const py::object& b,
                       const char* b_name, std::int64_t b_rows) {
    if (a.is_none() != b.is_none()) throw py::value_error(std::string(a_name) + " and " + b_name + " go together");
    if (a.is_none()) return {};
    std::int64_t n;
    Biases out;
    out.a = params(a.cast<py::array>(), a_name, 1, &n);
    check_same_length(a_rows, n, a_name);
    out.b = params(b.cast<py::array>(), b_name, 1, &n);
    check_same_length(b_rows, n, b_name);
    return out;
}

// Checks that `off` (n + 1 entries) is a CSR offset array into `size` entries.
void check_offsets(const std::int64_t* off, std::int64_t n, py::ssize_t size, const char* name) {
    for (std::int64_t u = 0; u < n; ++u)
        if (off[u] < 0 || off[u] > off[u + 1] || off[u + 1] > size)
            throw py::value_error(std::string(name) + " is not a valid CSR offset array");
}

// The one serial driver of every replay: visit(team, rows, r, loss) for r = 0 .. n - 1 in order, with the team
// of one and the host layout of rows of k floats (scratch for the step's own vectors); returns the summed terms.
template <class Visit>
double serial_replay(std::int64_t k, py::ssize_t n, Visit&& visit) {
    std::vector<float> scratch(static_cast<std::size_t>(hd::SerialSlices::kMaxTemps * k));
    const hd::SerialTeam team;
    const hd::SerialSlices rows{int(k), scratch.data()};
    double loss = 0;
    for (py::ssize_t r = 0; r < n; ++r) visit(team, rows, r, loss);
    return loss;
}

// A replay of a record step (a, b, c) -> terms over the records in order.
template <class Step>
double replay_records(const Step& step, std::int64_t k, const In<std::int32_t>& as, const In<std::int32_t>& bs,
                      const In<float>& cs) {
    return serial_replay(k, as.size(), [&](const auto& team, const auto& rows, py::ssize_t r, double& loss) {
        loss += step(team, rows, as.data()[r], bs.data()[r], cs.data()[r]);
    });
}

// A replay of a grouped step over the listed users in order.
template <class Step>
double replay_groups(const Step& step, std::int64_t k, const In<std::int32_t>& users) {
    return serial_replay(k, users.size(), [&](const auto& team, const auto& rows, py::ssize_t r, double& loss) {
        step.group(team, rows, users.data()[r], loss);
    });
}

}  // namespace

// BiasedMF / PMF (and SoReg's rating pass): models/biased_mf.hpp BiasedMFStep.
double host_mf_steps(py::array P_, py::array Q_, py::object bu_, py::object bi_, In<std::int32_t> users,
                     In<std::int32_t> items, In<float> values, float mu, float gamma, float lambda, float lambda_b) {
    std::int64_t n_users, n_items, k, k2;
    float* P = params(P_, "P", 2, &n_users, &k);
    float* Q = params(Q_, "Q", 2, &n_items, &k2);
    check_k(k, k2, "Q");
    const bool biased = !bu_.is_none();
    std::int64_t nb;
    float* bu = biased ? params(bu_.cast<py::array>(), "user_bias", 1, &nb) : nullptr;
    if (biased) check_same_length(n_users, nb, "user_bias");
    float* bi = biased ? params(bi_.cast<py::array>(), "item_bias", 1, &nb) : nullptr;
    if (biased) check_same_length(n_items, nb, "item_bias");
    check_same_length(users.size(), items.size(), "items");
    check_same_length(users.size(), values.size(), "values");
    check_range(users, n_users, "users");
    check_range(items, n_items, "items");
    return replay_records(BiasedMFStep<float>{P, Q, bu, bi, biased, mu, gamma, lambda, lambda_b}, k, users, items,
                          values);
}

// The logistic pair step (models/logistic_pair.hpp LogisticPairStep, one side) on records (a, b, c); with the
// biases a_bias, b_bias (float32, one per row of A and of B; both or neither) the biased side.
double host_logistic_steps(py::array A_, py::array B_, In<std::int32_t> as, In<std::int32_t> bs, In<float> values,
                           float gamma, float lambda, float data_weight, float penalty_weight, float offset,
                           py::object a_bias_, py::object b_bias_, float bias_lambda) {
    std::int64_t n_a, n_b, k, k2;
    float* A = params(A_, "A", 2, &n_a, &k);
    float* B = params(B_, "B", 2, &n_b, &k2);
    check_k(k, k2, "B");
    check_same_length(as.size(), bs.size(), "b");
    check_same_length(as.size(), values.size(), "values");
    check_range(as, n_a, "a");
    check_range(bs, n_b, "b");
    const Biases bias = optional_biases(a_bias_, "a_bias", n_a, b_bias_, "b_bias", n_b);
    LogisticPairStep<float> step{};
    step.sides[0] = {A, B, data_weight, penalty_weight, offset, bias.a, bias.b, bias_lambda};
    step.n_sides = 1;
    step.gamma = gamma;
    step.lambda = lambda;
    return replay_records(step, k, as, bs, values);
}

// SoReg SR2 (models/soreg.hpp SoRegEdgeStep) on edges (u, f, Sim).
double host_edge_steps(py::array U_, In<std::int32_t> as, In<std::int32_t> bs, In<float> sims, float gamma,
                       float beta) {
    std::int64_t n, k;
    float* U = params(U_, "U", 2, &n, &k);
    check_same_length(as.size(), bs.size(), "f");
    check_same_length(as.size(), sims.size(), "sim");
    check_range(as, n, "u");
    check_range(bs, n, "f");
    return replay_records(SoRegEdgeStep<float>{U, gamma, beta}, k, as, bs, sims);
}

// The mean-pull user step (models/social_mf.hpp MeanPullStep) on the listed users, in order.
double host_mean_pull_steps(py::array U_, In<std::int32_t> users, In<std::int64_t> offsets,
                            In<std::int32_t> neighbours, In<float> weights, float gamma, float weight) {
    std::int64_t n, k;
    float* U = params(U_, "U", 2, &n, &k);
    check_same_length(n + 1, offsets.size(), "offsets");
    check_same_length(neighbours.size(), weights.size(), "weights");
    check_range(users, n, "users");
    check_range(neighbours, n, "neighbours");
    check_offsets(offsets.data(), n, neighbours.size(), "offsets");
    return replay_groups(MeanPullStep<float>{U, offsets.data(), neighbours.data(), weights.data(), gamma, weight}, k,
                         users);
}

// SVD++'s user-grouped step (models/svdpp.hpp SVDppStep) on the listed users, in order; user u's ratings are
// items/values[offsets[u] .. offsets[u + 1]) in that order. With W (not None): TrustSVD's rating step, with the
// trust CSR (trust_offsets, trustees) and the weights |U_i|^-1/2 (item_weight), |T+_v|^-1/2 (trustee_weight).
double host_svdpp_steps(py::array P_, py::array Q_, py::array Y_, py::array bu_, py::array bi_,
                        In<std::int32_t> users, In<std::int64_t> offsets, In<std::int32_t> items, In<float> values,
                        float mu, float gamma, float lambda, float lambda_b, py::object W_,
                        py::object trust_offsets_, py::object trustees_, py::object item_weight_,
                        py::object trustee_weight_) {
    std::int64_t n_users, n_items, n_items2, k, k2, k3, nb;
    float* P = params(P_, "P", 2, &n_users, &k);
    float* Q = params(Q_, "Q", 2, &n_items, &k2);
    float* Y = params(Y_, "Y", 2, &n_items2, &k3);
    check_k(k, k2, "Q");
    check_k(k, k3, "Y");
    check_same_length(n_items, n_items2, "Y");
    float* bu = params(bu_, "user_bias", 1, &nb);
    check_same_length(n_users, nb, "user_bias");
    float* bi = params(bi_, "item_bias", 1, &nb);
    check_same_length(n_items, nb, "item_bias");
    check_same_length(n_users + 1, offsets.size(), "offsets");
    check_same_length(items.size(), values.size(), "values");
    check_range(users, n_users, "users");
    check_range(items, n_items, "items");
    check_offsets(offsets.data(), n_users, items.size(), "offsets");
    SVDppStep<float> step{offsets.data(), items.data(), values.data(), P, Q, Y, bu, bi,
                          nullptr, nullptr, nullptr, nullptr, nullptr, mu, gamma, lambda, lambda_b};
    In<std::int64_t> t_off;
    In<std::int32_t> t_dst;
    In<float> c_item, c_trustee;
    if (!W_.is_none()) {
        std::int64_t n_w, k4;
        step.W = params(W_.cast<py::array>(), "W", 2, &n_w, &k4);
        check_k(k, k4, "W");
        check_same_length(n_users, n_w, "W");
        t_off = In<std::int64_t>::ensure(trust_offsets_);
        t_dst = In<std::int32_t>::ensure(trustees_);
        c_item = In<float>::ensure(item_weight_);
        c_trustee = In<float>::ensure(trustee_weight_);
        if (!t_off || !t_dst || !c_item || !c_trustee) throw py::type_error("trust arrays must be numeric arrays");
        check_same_length(n_users + 1, t_off.size(), "trust_offsets");
        check_same_length(n_items, c_item.size(), "item_weight");
        check_same_length(n_users, c_trustee.size(), "trustee_weight");
        check_range(t_dst, n_users, "trustees");
        check_offsets(t_off.data(), n_users, t_dst.size(), "trust_offsets");
        step.trust_offsets = t_off.data();
        step.trustees = t_dst.data();
        step.item_weight = c_item.data();
        step.trustee_weight = c_trustee.data();
    }
    return replay_groups(step, k, users);
}

// TrustSVD's link step (models/trustsvd.hpp TrustLinkStep) on the listed trusters, in order; u's edges are
// trustees/values[offsets[u] .. offsets[u + 1]) in that order.
double host_trust_link_steps(py::array P_, py::array W_, In<std::int32_t> trusters, In<std::int64_t> offsets,
                             In<std::int32_t> trustees, In<float> values, In<float> trustee_weight, float gamma,
                             float lambda, float lambda_t) {
    std::int64_t n_users, n_w, k, k2;
    float* P = params(P_, "P", 2, &n_users, &k);
    float* W = params(W_, "W", 2, &n_w, &k2);
    check_k(k, k2, "W");
    check_same_length(n_users, n_w, "W");
    check_same_length(n_users + 1, offsets.size(), "offsets");
    check_same_length(trustees.size(), values.size(), "values");
    check_same_length(n_users, trustee_weight.size(), "trustee_weight");
    check_range(trusters, n_users, "trusters");
    check_range(trustees, n_users, "trustees");
    check_offsets(offsets.data(), n_users, trustees.size(), "offsets");
    return replay_groups(TrustLinkStep<float>{offsets.data(), trustees.data(), values.data(), trustee_weight.data(), P,
                                              W, gamma, lambda, lambda_t},
                         k, trusters);
}

// RSTE's user-grouped step (models/rste.hpp RSTEStep) on the listed users, in order.
double host_rste_steps(py::array U_, py::array V_, In<std::int32_t> users, In<std::int64_t> offsets,
                       In<std::int32_t> items, In<float> values, In<std::int64_t> trust_offsets,
                       In<std::int32_t> trustees, In<float> weights, float offset, float alpha, float gamma,
                       float lambda, py::object bu_, py::object bi_, float lambda_b) {
    std::int64_t n_users, n_items, k, k2;
    float* U = params(U_, "U", 2, &n_users, &k);
    float* V = params(V_, "V", 2, &n_items, &k2);
    check_k(k, k2, "V");
    check_same_length(n_users + 1, offsets.size(), "offsets");
    check_same_length(n_users + 1, trust_offsets.size(), "trust_offsets");
    check_same_length(items.size(), values.size(), "values");
    check_same_length(trustees.size(), weights.size(), "weights");
    check_range(users, n_users, "users");
    check_range(items, n_items, "items");
    check_range(trustees, n_users, "trustees");
    check_offsets(offsets.data(), n_users, items.size(), "offsets");
    check_offsets(trust_offsets.data(), n_users, trustees.size(), "trust_offsets");
    const Biases bias = optional_biases(bu_, "user_bias", n_users, bi_, "item_bias", n_items);
    return replay_groups(RSTEStep<float>{offsets.data(), items.data(), values.data(), trust_offsets.data(),
                                         trustees.data(), weights.data(), U, V, bias.a, bias.b, offset, alpha, gamma,
                                         lambda, lambda_b},
                         k, users);
}

// BPR / SBPR steps (models/bpr.hpp RankingStep) on given samples; social[r] = -1: BPR's triple.
double host_ranking_steps(py::array P_, py::array Q_, py::array bias_, In<std::int32_t> users,
                          In<std::int32_t> items, In<std::int32_t> socials, In<std::int32_t> negatives,
                          In<std::int32_t> counts, float gamma, float lambda, float lambda_b,
                          float social_weight) {
    std::int64_t n_users, n_items, k, k2, nb;
    float* P = params(P_, "P", 2, &n_users, &k);
    float* Q = params(Q_, "Q", 2, &n_items, &k2);
    check_k(k, k2, "Q");
    float* b = params(bias_, "item_bias", 1, &nb);
    check_same_length(n_items, nb, "item_bias");
    const py::ssize_t n = users.size();
    check_same_length(n, items.size(), "items");
    check_same_length(n, socials.size(), "social");
    check_same_length(n, negatives.size(), "negatives");
    check_same_length(n, counts.size(), "counts");
    check_range(users, n_users, "users");
    check_range(items, n_items, "items");
    check_range(negatives, n_items, "negatives");
    for (py::ssize_t r = 0; r < n; ++r)
        if (socials.data()[r] < -1 || socials.data()[r] >= n_items) throw py::index_error("social out of range");
    const RankingStep<float> step{P, Q, b, gamma, lambda, lambda_b, social_weight};
    return serial_replay(k, n, [&](const auto& team, const auto& rows, py::ssize_t r, double& loss) {
        const step::RankingSample s{users.data()[r], items.data()[r], socials.data()[r], negatives.data()[r],
                                    counts.data()[r]};
        loss += step(team, rows, s);
    });
}

// The device sampler (steps.hpp draw_sample) run on the host: samples first .. first + n - 1 of the epoch
// whose stream key is `key`, as (users, items, socials, negatives, counts).
py::tuple host_draw_samples(In<std::int64_t> indptr, In<std::int32_t> indices, In<std::int32_t> pool_users,
                            In<std::int32_t> pool_items, std::int32_t n_items, py::object social_indptr,
                            py::object social_items, py::object social_counts, std::uint64_t key,
                            std::int64_t first, std::int64_t n) {
    const std::int64_t n_users = indptr.size() - 1;
    if (n_users < 0) throw py::value_error("indptr must have at least one entry");
    if (pool_users.size() == 0 || n_items < 2) throw py::value_error("empty pool or fewer than 2 items");
    check_same_length(pool_users.size(), pool_items.size(), "pool_items");
    check_range(pool_users, n_users, "pool_users");
    check_range(indices, n_items, "indices");
    const std::int64_t* ip = indptr.data();
    for (std::int64_t u = 0; u < n_users; ++u)
        if (ip[u] < 0 || ip[u] > ip[u + 1] || ip[u + 1] > indices.size())
            throw py::value_error("indptr is not a valid CSR offset array");
    std::optional<In<std::int64_t>> s_ip;
    std::optional<In<std::int32_t>> s_items, s_counts;
    step::SamplerData data{ip, indices.data(), pool_users.data(), pool_items.data(),
                           static_cast<std::int64_t>(pool_users.size()), n_items, nullptr, nullptr, nullptr};
    if (!social_indptr.is_none()) {
        s_ip = In<std::int64_t>::ensure(social_indptr);
        s_items = In<std::int32_t>::ensure(social_items);
        s_counts = In<std::int32_t>::ensure(social_counts);
        if (!*s_ip || !*s_items || !*s_counts) throw py::type_error("social arrays must be numeric arrays");
        check_same_length(n_users + 1, s_ip->size(), "social_indptr");
        check_same_length(s_items->size(), s_counts->size(), "social_counts");
        check_range(*s_items, n_items, "social_items");
        data.social_indptr = s_ip->data();
        data.social_items = s_items->data();
        data.social_counts = s_counts->data();
    }
    py::array_t<std::int32_t> out[5] = {py::array_t<std::int32_t>(n), py::array_t<std::int32_t>(n),
                                        py::array_t<std::int32_t>(n), py::array_t<std::int32_t>(n),
                                        py::array_t<std::int32_t>(n)};
    for (std::int64_t s = 0; s < n; ++s) {
        step::CounterStream gen = step::sample_stream(key, std::uint64_t(first + s));
        const step::RankingSample x = step::draw_sample(data, gen);
        out[0].mutable_data()[s] = x.user;
        out[1].mutable_data()[s] = x.item;
        out[2].mutable_data()[s] = x.social;
        out[3].mutable_data()[s] = x.negative;
        out[4].mutable_data()[s] = x.count;
    }
    return py::make_tuple(out[0], out[1], out[2], out[3], out[4]);
}

void bind_host_steps(py::module_& m) {
    m.def("host_mf_steps", &host_mf_steps, py::arg("P"), py::arg("Q"), py::arg("user_bias"), py::arg("item_bias"),
          py::arg("users"), py::arg("items"), py::arg("values"), py::arg("mu"), py::arg("gamma"), py::arg("lam"),
          py::arg("lam_b"),
          "Host replay of the BiasedMF/PMF device step (biases None: PMF) on the records in order; returns the "
          "summed terms. float32 arrays, updated in place.");
    m.def("host_logistic_steps", &host_logistic_steps, py::arg("A"), py::arg("B"), py::arg("a"), py::arg("b"),
          py::arg("values"), py::arg("gamma"), py::arg("lam"), py::arg("data_weight"), py::arg("penalty_weight"),
          py::arg("offset"), py::arg("a_bias") = py::none(), py::arg("b_bias") = py::none(),
          py::arg("bias_lambda") = 0.0f, "Host replay of the device logistic pair step (a_bias, b_bias given: "
          "the biased side, biases inside the link).");
    m.def("host_edge_steps", &host_edge_steps, py::arg("U"), py::arg("u"), py::arg("f"), py::arg("sim"),
          py::arg("gamma"), py::arg("beta"), "Host replay of the device SoReg SR2 edge step.");
    m.def("host_mean_pull_steps", &host_mean_pull_steps, py::arg("U"), py::arg("users"), py::arg("offsets"),
          py::arg("neighbours"), py::arg("weights"), py::arg("gamma"), py::arg("weight"),
          "Host replay of the device mean-pull user step (SocialMF user pass, SoReg SR1).");
    m.def("host_svdpp_steps", &host_svdpp_steps, py::arg("P"), py::arg("Q"), py::arg("Y"), py::arg("user_bias"),
          py::arg("item_bias"), py::arg("users"), py::arg("offsets"), py::arg("items"), py::arg("values"),
          py::arg("mu"), py::arg("gamma"), py::arg("lam"), py::arg("lam_b"), py::arg("W") = py::none(),
          py::arg("trust_offsets") = py::none(), py::arg("trustees") = py::none(),
          py::arg("item_weight") = py::none(), py::arg("trustee_weight") = py::none(),
          "Host replay of the device SVD++ (W given: TrustSVD) user-grouped step on the listed users, in order.");
    m.def("host_trust_link_steps", &host_trust_link_steps, py::arg("P"), py::arg("W"), py::arg("trusters"),
          py::arg("offsets"), py::arg("trustees"), py::arg("values"), py::arg("trustee_weight"), py::arg("gamma"),
          py::arg("lam"), py::arg("lam_t"), "Host replay of the device TrustSVD link step.");
    m.def("host_rste_steps", &host_rste_steps, py::arg("U"), py::arg("V"), py::arg("users"), py::arg("offsets"),
          py::arg("items"), py::arg("values"), py::arg("trust_offsets"), py::arg("trustees"), py::arg("weights"),
          py::arg("offset"), py::arg("alpha"), py::arg("gamma"), py::arg("lam"), py::arg("user_bias") = py::none(),
          py::arg("item_bias") = py::none(), py::arg("lam_b") = 0.0f,
          "Host replay of the device RSTE user-grouped step on the listed users, in order.");
    m.def("host_ranking_steps", &host_ranking_steps, py::arg("P"), py::arg("Q"), py::arg("item_bias"),
          py::arg("users"), py::arg("items"), py::arg("social"), py::arg("negatives"), py::arg("counts"),
          py::arg("gamma"), py::arg("lam"), py::arg("lam_b"), py::arg("social_weight") = 1.0f,
          "Host replay of the device BPR (social -1) / SBPR steps on given samples.");
    m.def("host_draw_samples", &host_draw_samples, py::arg("indptr"), py::arg("indices"), py::arg("pool_users"),
          py::arg("pool_items"), py::arg("n_items"), py::arg("social_indptr"), py::arg("social_items"),
          py::arg("social_counts"), py::arg("key"), py::arg("first"), py::arg("n"),
          "The device sampler on the host: samples first .. first+n-1 of the epoch with stream key `key`.");
}

}  // namespace socialrec::cuda
