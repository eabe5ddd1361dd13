// Host replays of the CUDA kernels' per-update math (steps.hpp), bound as socialrec._cuda.host_*: they apply
// a given list of updates serially, on the CPU, in float32, with exactly the functions the kernels call (the
// warp reduction replaced by a serial loop). tests/test_cuda_steps.py runs them against the CPU models'
// kernels on the same records in the same order, so the device step formulas are checked without a GPU.
// Compiled by the host C++ compiler, never by nvcc.
#include "host_steps.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace

// BiasedMF / PMF (and SoReg's rating pass): models/biased_mf.cu update().
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
    double loss = 0;
    for (py::ssize_t r = 0; r < users.size(); ++r) {
        float* p = P + std::int64_t(users.data()[r]) * k;
        float* q = Q + std::int64_t(items.data()[r]) * k;
        float dot = 0, norms = 0;
        for (std::int64_t f = 0; f < k; ++f) {
            dot = fmaf(p[f], q[f], dot);
            norms = fmaf(p[f], p[f], fmaf(q[f], q[f], norms));
        }
        const float b_u = biased ? bu[users.data()[r]] : 0.0f, b_i = biased ? bi[items.data()[r]] : 0.0f;
        const float e = step::mf_error(values.data()[r], dot, mu, b_u + b_i, biased);
        for (std::int64_t f = 0; f < k; ++f) step::pair_element(p[f], q[f], e, gamma, lambda, lambda);
        if (biased) {
            bu[users.data()[r]] = step::bias_element(b_u, e, gamma, lambda_b);
            bi[items.data()[r]] = step::bias_element(b_i, e, gamma, lambda_b);
        }
        loss += step::mf_term(e, norms, lambda, biased, b_u, b_i, lambda_b);
    }
    return loss;
}

// The logistic pair step (models/logistic_pair.cu logistic_update) on records (a, b, c) of rows of A and B.
double host_logistic_steps(py::array A_, py::array B_, In<std::int32_t> as, In<std::int32_t> bs, In<float> values,
                           float gamma, float lambda, float data_weight, float penalty_weight, float offset) {
    std::int64_t n_a, n_b, k, k2;
    float* A = params(A_, "A", 2, &n_a, &k);
    float* B = params(B_, "B", 2, &n_b, &k2);
    check_k(k, k2, "B");
    check_same_length(as.size(), bs.size(), "b");
    check_same_length(as.size(), values.size(), "values");
    check_range(as, n_a, "a");
    check_range(bs, n_b, "b");
    double loss = 0;
    const float lambda_w = penalty_weight * lambda;
    for (py::ssize_t r = 0; r < as.size(); ++r) {
        float* x = A + std::int64_t(as.data()[r]) * k;
        float* y = B + std::int64_t(bs.data()[r]) * k;
        float dot = 0, norms = 0;
        for (std::int64_t f = 0; f < k; ++f) {
            dot = fmaf(x[f], y[f], dot);
            norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
        }
        const step::LogisticCoef coef = step::logistic_coef(values.data()[r], dot, offset, data_weight);
        for (std::int64_t f = 0; f < k; ++f) step::pair_element(x[f], y[f], coef.d, gamma, lambda_w, lambda_w);
        loss += step::logistic_term(coef.e, norms, data_weight, penalty_weight, lambda);
    }
    return loss;
}

// SoReg SR2 (models/soreg.cu soreg_edge_kernel) on edges (u, f, Sim).
double host_edge_steps(py::array U_, In<std::int32_t> as, In<std::int32_t> bs, In<float> sims, float gamma,
                       float beta) {
    std::int64_t n, k;
    float* U = params(U_, "U", 2, &n, &k);
    check_same_length(as.size(), bs.size(), "f");
    check_same_length(as.size(), sims.size(), "sim");
    check_range(as, n, "u");
    check_range(bs, n, "f");
    double loss = 0;
    for (py::ssize_t r = 0; r < as.size(); ++r) {
        float* u = U + std::int64_t(as.data()[r]) * k;
        float* f = U + std::int64_t(bs.data()[r]) * k;
        const float w = beta * sims.data()[r];
        float squared = 0;
        for (std::int64_t j = 0; j < k; ++j) {
            const float d = step::difference_element(u[j], f[j], gamma * w);
            squared = fmaf(d, d, squared);
        }
        loss += step::difference_term(w, squared);
    }
    return loss;
}

// The mean-pull user step (models/social_mf.cu mean_pull_kernel) on the listed users, in order.
double host_mean_pull_steps(py::array U_, In<std::int32_t> users, In<std::int64_t> offsets,
                            In<std::int32_t> neighbours, In<float> weights, float gamma, float weight) {
    std::int64_t n, k;
    float* U = params(U_, "U", 2, &n, &k);
    check_same_length(n + 1, offsets.size(), "offsets");
    check_same_length(neighbours.size(), weights.size(), "weights");
    check_range(users, n, "users");
    check_range(neighbours, n, "neighbours");
    const std::int64_t* off = offsets.data();
    for (std::int64_t u = 0; u < n; ++u)
        if (off[u] < 0 || off[u] > off[u + 1] || off[u + 1] > neighbours.size())
            throw py::value_error("offsets is not a valid CSR offset array");
    const float step_size = gamma * weight;
    std::vector<float> d(static_cast<std::size_t>(k));
    double loss = 0;
    for (py::ssize_t r = 0; r < users.size(); ++r) {
        const std::int32_t u = users.data()[r];
        float* own = U + std::int64_t(u) * k;
        for (std::int64_t f = 0; f < k; ++f) d[f] = own[f];
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            const float* v = U + std::int64_t(neighbours.data()[e]) * k;
            for (std::int64_t f = 0; f < k; ++f) d[f] = step::mean_pull_accumulate(d[f], weights.data()[e], v[f]);
        }
        float squared = 0;
        for (std::int64_t f = 0; f < k; ++f) {
            squared = fmaf(d[f], d[f], squared);
            own[f] = step::mean_pull_own(own[f], d[f], step_size);
        }
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            float* v = U + std::int64_t(neighbours.data()[e]) * k;
            for (std::int64_t f = 0; f < k; ++f)
                v[f] = step::mean_pull_neighbour(v[f], d[f], step_size, weights.data()[e]);
        }
        loss += step::mean_pull_term(weight, squared);
    }
    return loss;
}

// SVD++'s user-grouped step (models/svdpp.cu svdpp_kernel) on the listed users, in order; user u's ratings are
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
    const std::int64_t* off = offsets.data();
    for (std::int64_t u = 0; u < n_users; ++u)
        if (off[u] < 0 || off[u] > off[u + 1] || off[u + 1] > items.size())
            throw py::value_error("offsets is not a valid CSR offset array");
    const bool trust_aware = !W_.is_none();
    float* W = nullptr;
    In<std::int64_t> t_off;
    In<std::int32_t> t_dst;
    In<float> c_item, c_trustee;
    if (trust_aware) {
        std::int64_t n_w, k4;
        W = params(W_.cast<py::array>(), "W", 2, &n_w, &k4);
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
        for (std::int64_t u = 0; u < n_users; ++u)
            if (t_off.data()[u] < 0 || t_off.data()[u] > t_off.data()[u + 1] || t_off.data()[u + 1] > t_dst.size())
                throw py::value_error("trust_offsets is not a valid CSR offset array");
    }
    std::vector<float> z(static_cast<std::size_t>(k)), g(static_cast<std::size_t>(k)), sum(static_cast<std::size_t>(k));
    double loss = 0;
    for (py::ssize_t r = 0; r < users.size(); ++r) {
        const std::int32_t u = users.data()[r];
        const std::int64_t m = off[u + 1] - off[u];
        if (m == 0) continue;
        const float s = step::inverse_sqrt_count(m);
        float* p = P + std::int64_t(u) * k;
        for (std::int64_t f = 0; f < k; ++f) z[f] = g[f] = 0.0f;
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            const float* y = Y + std::int64_t(items.data()[e]) * k;
            for (std::int64_t f = 0; f < k; ++f) z[f] += y[f];
        }
        for (std::int64_t f = 0; f < k; ++f) z[f] *= s;
        std::int64_t t_begin = 0, t_end = 0;
        float s_trust = 0.0f;
        if (trust_aware) {
            t_begin = t_off.data()[u];
            t_end = t_off.data()[u + 1];
            if (t_end > t_begin) {
                s_trust = step::inverse_sqrt_count(t_end - t_begin);
                for (std::int64_t f = 0; f < k; ++f) sum[f] = 0.0f;
                for (std::int64_t e = t_begin; e < t_end; ++e) {
                    const float* w = W + std::int64_t(t_dst.data()[e]) * k;
                    for (std::int64_t f = 0; f < k; ++f) sum[f] += w[f];
                }
                for (std::int64_t f = 0; f < k; ++f) z[f] = fmaf(s_trust, sum[f], z[f]);
            }
        }
        const float lambda_p = trust_aware ? lambda * s : lambda;
        const float lambda_bu = trust_aware ? lambda_b * s : lambda_b;
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            const std::int32_t i = items.data()[e];
            const float c_i = trust_aware ? c_item.data()[i] : 1.0f;
            const float lambda_q = lambda * c_i, lambda_bi = lambda_b * c_i;
            float* q = Q + std::int64_t(i) * k;
            const float b_u = bu[u], b_i = bi[i];
            float dot_pq = 0, dot_zq = 0, norm_p = 0, norm_q = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                dot_pq = fmaf(p[f], q[f], dot_pq);
                dot_zq = fmaf(z[f], q[f], dot_zq);
                norm_p = fmaf(p[f], p[f], norm_p);
                norm_q = fmaf(q[f], q[f], norm_q);
            }
            const float err = step::svdpp_error(values.data()[e], mu, b_u, b_i, dot_pq, dot_zq);
            for (std::int64_t f = 0; f < k; ++f)
                step::svdpp_element(p[f], q[f], g[f], z[f], err, gamma, lambda_p, lambda_q);
            loss += step::svdpp_term(err, lambda_p, norm_p, lambda_q, norm_q, lambda_bu, b_u, lambda_bi, b_i);
            bu[u] = step::bias_element(b_u, err, gamma, lambda_bu);
            bi[i] = step::bias_element(b_i, err, gamma, lambda_bi);
        }
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            const std::int32_t i = items.data()[e];
            const float lambda_y = trust_aware ? lambda * c_item.data()[i] : lambda;
            const float shrink = step::proximal_shrink(gamma, m, lambda_y);
            float* y = Y + std::int64_t(i) * k;
            float norm_y = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                norm_y = fmaf(y[f], y[f], norm_y);
                y[f] = step::proximal_element(y[f], g[f], gamma, s, shrink);
            }
            loss += step::group_penalty_term(m, lambda_y, norm_y);
        }
        if (trust_aware && t_end > t_begin) {
            const float gamma_s = gamma * s_trust;
            for (std::int64_t e = t_begin; e < t_end; ++e) {
                const std::int32_t v = t_dst.data()[e];
                const float lambda_w = lambda * c_trustee.data()[v];
                const float shrink = step::proximal_shrink(gamma, m, lambda_w);
                float* w = W + std::int64_t(v) * k;
                float norm_w = 0;
                for (std::int64_t f = 0; f < k; ++f) {
                    norm_w = fmaf(w[f], w[f], norm_w);
                    w[f] = step::trust_w_element(w[f], g[f], gamma_s, shrink);
                }
                loss += step::group_penalty_term(m, lambda_w, norm_w);
            }
        }
    }
    return loss;
}

// TrustSVD's link step (models/trustsvd.cu trust_link_kernel) on the listed trusters, in order; u's edges are
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
    const std::int64_t* off = offsets.data();
    for (std::int64_t u = 0; u < n_users; ++u)
        if (off[u] < 0 || off[u] > off[u + 1] || off[u + 1] > trustees.size())
            throw py::value_error("offsets is not a valid CSR offset array");
    double loss = 0;
    for (py::ssize_t r = 0; r < trusters.size(); ++r) {
        const std::int32_t u = trusters.data()[r];
        if (off[u + 1] == off[u]) continue;
        const float lambda_p = lambda_t * step::inverse_sqrt_count(off[u + 1] - off[u]);
        float* p = P + std::int64_t(u) * k;
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            const std::int32_t v = trustees.data()[e];
            const float lambda_w = lambda * trustee_weight.data()[v];
            float* w = W + std::int64_t(v) * k;
            float dot = 0, norm_p = 0, norm_w = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                dot = fmaf(p[f], w[f], dot);
                norm_p = fmaf(p[f], p[f], norm_p);
                norm_w = fmaf(w[f], w[f], norm_w);
            }
            const float err = values.data()[e] - dot;
            for (std::int64_t f = 0; f < k; ++f) step::pair_element(p[f], w[f], lambda_t * err, gamma, lambda_p, lambda_w);
            loss += step::trust_link_term(lambda_t, err, lambda_p, norm_p, lambda_w, norm_w);
        }
    }
    return loss;
}

// RSTE's user-grouped step (models/rste.cu rste_kernel) on the listed users, in order.
double host_rste_steps(py::array U_, py::array V_, In<std::int32_t> users, In<std::int64_t> offsets,
                       In<std::int32_t> items, In<float> values, In<std::int64_t> trust_offsets,
                       In<std::int32_t> trustees, In<float> weights, float offset, float alpha, float gamma,
                       float lambda) {
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
    const std::int64_t* off = offsets.data();
    const std::int64_t* toff = trust_offsets.data();
    for (std::int64_t u = 0; u < n_users; ++u) {
        if (off[u] < 0 || off[u] > off[u + 1] || off[u + 1] > items.size())
            throw py::value_error("offsets is not a valid CSR offset array");
        if (toff[u] < 0 || toff[u] > toff[u + 1] || toff[u + 1] > trustees.size())
            throw py::value_error("trust_offsets is not a valid CSR offset array");
    }
    std::vector<float> nb(static_cast<std::size_t>(k)), grad(static_cast<std::size_t>(k)), z(static_cast<std::size_t>(k));
    double loss = 0;
    for (py::ssize_t r = 0; r < users.size(); ++r) {
        const std::int32_t u = users.data()[r];
        const std::int64_t t0 = toff[u], t1 = toff[u + 1];
        const float own = t1 > t0 ? alpha : 1.0f, rest = 1.0f - alpha;
        for (std::int64_t f = 0; f < k; ++f) nb[f] = grad[f] = 0.0f;
        for (std::int64_t e = t0; e < t1; ++e) {
            const float* y = U + std::int64_t(trustees.data()[e]) * k;
            for (std::int64_t f = 0; f < k; ++f) nb[f] = fmaf(weights.data()[e], y[f], nb[f]);
        }
        float* x = U + std::int64_t(u) * k;
        for (std::int64_t e = off[u]; e < off[u + 1]; ++e) {
            float* y = V + std::int64_t(items.data()[e]) * k;
            float dot = 0, norms = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                z[f] = step::rste_blend(own, x[f], rest, nb[f]);
                dot = fmaf(z[f], y[f], dot);
                norms = fmaf(x[f], x[f], fmaf(y[f], y[f], norms));
            }
            const step::LogisticCoef coef = step::logistic_coef(values.data()[e], dot, offset, 1.0f);
            for (std::int64_t f = 0; f < k; ++f) step::rste_element(x[f], y[f], grad[f], z[f], coef.d, own, gamma, lambda);
            loss += step::logistic_term(coef.e, norms, 1.0f, 1.0f, lambda);
        }
        for (std::int64_t e = t0; e < t1; ++e) {
            const float step_size = gamma * rest * weights.data()[e];
            float* y = U + std::int64_t(trustees.data()[e]) * k;
            for (std::int64_t f = 0; f < k; ++f) y[f] = step::rste_neighbour(y[f], grad[f], step_size);
        }
    }
    return loss;
}

// BPR / SBPR steps (models/bpr.cu bpr_update, sbpr_update) on given samples; social[r] = -1: BPR's triple.
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
    double loss = 0;
    for (py::ssize_t r = 0; r < n; ++r) {
        const std::int32_t i = items.data()[r], kk = socials.data()[r], j = negatives.data()[r];
        float* p = P + std::int64_t(users.data()[r]) * k;
        float* qi = Q + std::int64_t(i) * k;
        float* qj = Q + std::int64_t(j) * k;
        if (kk < 0) {
            const float b_i = b[i], b_j = b[j];
            float dot = 0, norms = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                dot = fmaf(p[f], qi[f] - qj[f], dot);
                norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
            }
            float x;
            const float e = step::bpr_coef(dot, b_i, b_j, &x);
            for (std::int64_t f = 0; f < k; ++f) step::bpr_element(p[f], qi[f], qj[f], e, gamma, lambda);
            b[i] = step::bias_element(b_i, e, gamma, lambda_b);
            b[j] = step::bias_element(b_j, -e, gamma, lambda_b);
            loss += step::bpr_term(x, norms, lambda, b_i, b_j, lambda_b);
        } else {
            float* qk = Q + std::int64_t(kk) * k;
            const float b_i = b[i], b_k = b[kk], b_j = b[j];
            float x_ik = 0, x_kj = 0, norms = 0, norm_k = 0;
            for (std::int64_t f = 0; f < k; ++f) {
                x_ik = fmaf(p[f], qi[f] - qk[f], x_ik);
                x_kj = fmaf(p[f], qk[f] - qj[f], x_kj);
                norms += p[f] * p[f] + qi[f] * qi[f] + qj[f] * qj[f];
                norm_k += qk[f] * qk[f];
            }
            const step::SBPRCoef coef = step::sbpr_coef(x_ik, x_kj, b_i, b_k, b_j, counts.data()[r], social_weight);
            for (std::int64_t f = 0; f < k; ++f) step::sbpr_element(p[f], qi[f], qk[f], qj[f], coef, gamma, lambda);
            b[i] = step::bias_element(b_i, coef.e1 + coef.e3, gamma, lambda_b);
            b[kk] = step::bias_element(b_k, coef.e2 - coef.e1, gamma, coef.alpha * lambda_b);
            b[j] = step::bias_element(b_j, -(coef.e2 + coef.e3), gamma, lambda_b);
            loss += step::sbpr_term(coef, norms, norm_k, lambda, b_i, b_k, b_j, lambda_b);
        }
    }
    return loss;
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
          py::arg("offset"), "Host replay of the device logistic pair step.");
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
          py::arg("offset"), py::arg("alpha"), py::arg("gamma"), py::arg("lam"),
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
