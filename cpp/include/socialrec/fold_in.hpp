// Fold-in row problems (DESIGN §2b): the solver behind model.fold_in_users / fold_in_items.
//
// Fold-in gives a new user (or item) the parameter row θ (dimension d: a factor vector, with its bias where the
// model has one) that minimises the model's own objective with every other parameter fixed. Python writes each
// model's terms (python/socialrec/models/_fold_in_models.py) as one problem of three kinds of terms:
//   * row blocks:  Σ_j w_j ℓ(t_j, o_j + A_j·θ), ℓ = ½ (t − z)² ("square"), ½ (t − g(z))² with g logistic
//                  ("logistic", Ma et al. CIKM 2008 eq. 4) or ln(1 + e^−z) ("softplus", Rendle et al. 2009 eq. 4);
//   * pair groups: w Σ_{a, b} ln(1 + e^−z_ab), z_ab = s_b ((oa_a + A_a·θ) − (ob_b + B_b·θ)) (BPR/SBPR pairs
//                  kept as two item sets, not |A|·|B| rows);
//   * a quadratic  ½ θ'Rθ − s·θ + c (the L2 penalties and the pulls toward fixed rows).
// solve() minimises one problem: by one linear solve when every term is quadratic, else by at most max_steps
// damped Newton steps from θ = 0 (Gauss–Newton curvature for the logistic squared error, whose Hessian is
// not PSD) with an Armijo backtracking line search that accepts only a step that lowers the objective (up to
// its rounding), and one last full Newton step once the gradient is below the tolerance.
//
// This is a line-by-line mirror of socialrec/reference/fold_in.py (solve, RowProblem.value, .derivatives):
// the same operations in the same order, so that the two agree to rounding in float64 (tests/test_fold_in.py).
// Problems are independent, so solve_all() runs them on OpenMP threads (each thread one problem at a time).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "socialrec/parallel.hpp"

namespace socialrec::fold_in {

enum Kind : std::int64_t { kSquare = 0, kLogistic = 1, kSoftplus = 2 };

struct RowBlock {  // n rows: A (n × d, row-major), offsets o, targets t, weights w
    std::int64_t kind, n;
    const double *A, *o, *t, *w;
};

struct PairGroup {  // weight w, item sets A (na × d) with offsets oa, B (nb × d) with offsets ob and scales s
    double w;
    std::int64_t na, nb;
    const double *A, *oa, *B, *ob, *scale;
};

struct Problem {
    int d;
    const double *R, *s;  // R: d × d, s: d
    double c;
    const RowBlock* rows;
    std::int64_t n_rows;
    const PairGroup* pairs;
    std::int64_t n_pairs;
};

struct Settings {
    int max_steps;         // Newton steps at most (reference: MAX_STEPS)
    double gradient_tol;   // stop when max |g| <= tol (1 + |f|) (reference: GRADIENT_TOL)
    double slack;          // objective changes below slack (1 + |f|) are rounding (reference: SLACK)
    int threads;
};

// NumPy's logaddexp(0, x) (npy_logaddexp with x = 0, y = x), bit for bit the same branches.
inline double log1p_exp(double x) {
    if (x == 0.0) return 0.6931471805599453;  // ln 2
    const double tmp = -x;
    if (tmp > 0) return std::log1p(std::exp(-tmp));
    if (tmp <= 0) return x + std::log1p(std::exp(tmp));
    return tmp;  // NaN
}

// σ(z) = exp(−ln(1 + e^−z)), as the reference computes it (no overflow).
inline double sigmoid(double z) { return std::exp(-log1p_exp(-z)); }

inline double dot(const double* a, const double* b, int d) {
    double s = 0.0;
    for (int i = 0; i < d; ++i) s += a[i] * b[i];
    return s;
}

// The objective at θ (reference: RowProblem.value).
inline double value(const Problem& p, const double* theta, std::vector<double>& za) {
    const int d = p.d;
    double quad = 0.0;
    for (int i = 0; i < d; ++i) quad += theta[i] * dot(p.R + std::size_t(i) * d, theta, d);
    double f = 0.5 * quad - dot(p.s, theta, d) + p.c;
    for (std::int64_t b = 0; b < p.n_rows; ++b) {
        const RowBlock& r = p.rows[b];
        double sum = 0.0;
        for (std::int64_t j = 0; j < r.n; ++j) {
            const double z = r.o[j] + dot(r.A + j * d, theta, d);
            if (r.kind == kSquare) {
                sum += r.w[j] * (r.t[j] - z) * (r.t[j] - z);
            } else if (r.kind == kLogistic) {
                const double e = r.t[j] - sigmoid(z);
                sum += r.w[j] * e * e;
            } else {
                sum += r.w[j] * log1p_exp(-z);
            }
        }
        f += r.kind == kSoftplus ? sum : 0.5 * sum;
    }
    for (std::int64_t q = 0; q < p.n_pairs; ++q) {
        const PairGroup& g = p.pairs[q];
        za.resize(std::size_t(g.na));
        for (std::int64_t a = 0; a < g.na; ++a) za[a] = g.oa[a] + dot(g.A + a * d, theta, d);
        double sum = 0.0;
        for (std::int64_t b = 0; b < g.nb; ++b) {
            const double zb = g.ob[b] + dot(g.B + b * d, theta, d);
            for (std::int64_t a = 0; a < g.na; ++a) sum += log1p_exp(-(g.scale[b] * (za[a] - zb)));
        }
        f += g.w * sum;
    }
    return f;
}

// Scratch of one thread.
struct Scratch {
    std::vector<double> g, H, step, cand, za, ca, ha, cb, hb, v, lu;
    std::vector<int> piv, keep;
    explicit Scratch(int d) : g(d), H(std::size_t(d) * d), step(d), cand(d), lu(std::size_t(d) * d), piv(d) {}
};

// The gradient g and the (Gauss–)Newton matrix H at θ (reference: RowProblem.derivatives).
inline void derivatives(const Problem& p, const double* theta, Scratch& s) {
    const int d = p.d;
    double* g = s.g.data();
    double* H = s.H.data();
    for (int i = 0; i < d; ++i) g[i] = dot(p.R + std::size_t(i) * d, theta, d) - p.s[i];
    std::copy(p.R, p.R + std::size_t(d) * d, H);
    for (std::int64_t b = 0; b < p.n_rows; ++b) {
        const RowBlock& r = p.rows[b];
        for (std::int64_t j = 0; j < r.n; ++j) {
            const double* a = r.A + j * d;
            const double z = r.o[j] + dot(a, theta, d);
            double dz, curv;
            if (r.kind == kSquare) {
                dz = -(r.t[j] - z);
                curv = 1.0;
            } else if (r.kind == kLogistic) {
                const double pr = sigmoid(z), slope = pr * (1.0 - pr);
                dz = -(r.t[j] - pr) * slope;
                curv = slope * slope;
            } else {
                const double q = sigmoid(-z);
                dz = -q;
                curv = q * (1.0 - q);
            }
            const double gw = r.w[j] * dz, hw = r.w[j] * curv;
            for (int i = 0; i < d; ++i) {
                g[i] += a[i] * gw;
                const double ai = a[i] * hw;
                for (int k = 0; k < d; ++k) H[std::size_t(i) * d + k] += ai * a[k];
            }
        }
    }
    for (std::int64_t q = 0; q < p.n_pairs; ++q) {
        const PairGroup& G = p.pairs[q];
        // c_ab = −w q_ab s_b, h_ab = w q_ab (1 − q_ab) s_b², q_ab = σ(−z_ab); their row sums (over b), column
        // sums (over a), and v_a = Σ_b h_ab B_b for the cross term Σ_ab h_ab (A_a B_b' + B_b A_a')
        s.za.resize(std::size_t(G.na));
        s.ca.assign(std::size_t(G.na), 0.0);
        s.ha.assign(std::size_t(G.na), 0.0);
        s.cb.assign(std::size_t(G.nb), 0.0);
        s.hb.assign(std::size_t(G.nb), 0.0);
        s.v.assign(std::size_t(G.na) * d, 0.0);
        for (std::int64_t a = 0; a < G.na; ++a) s.za[a] = G.oa[a] + dot(G.A + a * d, theta, d);
        for (std::int64_t b = 0; b < G.nb; ++b) {
            const double* Bb = G.B + b * d;
            const double zb = G.ob[b] + dot(Bb, theta, d), sc = G.scale[b];
            double cb = 0.0, hb = 0.0;
            for (std::int64_t a = 0; a < G.na; ++a) {
                const double qq = sigmoid(-(sc * (s.za[a] - zb)));
                const double c = -G.w * qq * sc, h = G.w * qq * (1.0 - qq) * (sc * sc);
                s.ca[a] += c;
                s.ha[a] += h;
                cb += c;
                hb += h;
                double* va = s.v.data() + a * d;
                for (int i = 0; i < d; ++i) va[i] += h * Bb[i];
            }
            s.cb[b] = cb;
            s.hb[b] = hb;
        }
        for (std::int64_t a = 0; a < G.na; ++a) {
            const double* Aa = G.A + a * d;
            const double* va = s.v.data() + a * d;
            for (int i = 0; i < d; ++i) {
                g[i] += Aa[i] * s.ca[a];
                for (int k = 0; k < d; ++k)
                    H[std::size_t(i) * d + k] += s.ha[a] * Aa[i] * Aa[k] - Aa[i] * va[k] - va[i] * Aa[k];
            }
        }
        for (std::int64_t b = 0; b < G.nb; ++b) {
            const double* Bb = G.B + b * d;
            for (int i = 0; i < d; ++i) {
                g[i] -= Bb[i] * s.cb[b];
                const double bi = Bb[i] * s.hb[b];
                for (int k = 0; k < d; ++k) H[std::size_t(i) * d + k] += bi * Bb[k];
            }
        }
    }
}

// Solves M x = rhs (M: n × n in `lu`, overwritten) by LU with partial pivoting, as LAPACK's gesv (numpy.linalg
// .solve); false when a pivot is exactly zero (numpy raises LinAlgError there).
inline bool lu_solve(double* lu, int n, const double* rhs, double* x, int* piv) {
    for (int i = 0; i < n; ++i) x[i] = rhs[i];
    for (int c = 0; c < n; ++c) {
        int best = c;
        for (int r = c + 1; r < n; ++r)
            if (std::fabs(lu[std::size_t(r) * n + c]) > std::fabs(lu[std::size_t(best) * n + c])) best = r;
        piv[c] = best;
        if (lu[std::size_t(best) * n + c] == 0.0) return false;
        if (best != c) {
            for (int k = 0; k < n; ++k) std::swap(lu[std::size_t(c) * n + k], lu[std::size_t(best) * n + k]);
            std::swap(x[c], x[best]);
        }
        const double pivot = lu[std::size_t(c) * n + c];
        for (int r = c + 1; r < n; ++r) {
            const double f = lu[std::size_t(r) * n + c] / pivot;
            if (f == 0.0) continue;
            for (int k = c + 1; k < n; ++k) lu[std::size_t(r) * n + k] -= f * lu[std::size_t(c) * n + k];
            x[r] -= f * x[c];
        }
    }
    for (int r = n - 1; r >= 0; --r) {
        double sum = x[r];
        for (int k = r + 1; k < n; ++k) sum -= lu[std::size_t(r) * n + k] * x[k];
        x[r] = sum / lu[std::size_t(r) * n + r];
    }
    return true;
}

// The least-norm least-squares solution of the symmetric system M x = rhs (numpy.linalg.lstsq's answer with
// its default cutoff, singular values below eps · n · the largest dropped) by cyclic Jacobi eigenvalue
// rotations (M symmetric: its singular values are |eigenvalues|).
inline void least_norm_solve(const double* M, int n, const double* rhs, double* x) {
    std::vector<double> a(M, M + std::size_t(n) * n), V(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i) V[std::size_t(i) * n + i] = 1.0;
    double total = 0.0;
    for (double v : a) total += v * v;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0.0;
        for (int i = 0; i < n; ++i)
            for (int j = i + 1; j < n; ++j) off += a[std::size_t(i) * n + j] * a[std::size_t(i) * n + j];
        if (off <= 1e-34 * total) break;  // off-diagonal mass below rounding: diagonal
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) {
                const double apq = a[std::size_t(p) * n + q];
                if (apq == 0.0) continue;
                const double theta = (a[std::size_t(q) * n + q] - a[std::size_t(p) * n + p]) / (2.0 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < n; ++k) {  // columns p, q
                    const double akp = a[std::size_t(k) * n + p], akq = a[std::size_t(k) * n + q];
                    a[std::size_t(k) * n + p] = c * akp - s * akq;
                    a[std::size_t(k) * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {  // rows p, q
                    const double apk = a[std::size_t(p) * n + k], aqk = a[std::size_t(q) * n + k];
                    a[std::size_t(p) * n + k] = c * apk - s * aqk;
                    a[std::size_t(q) * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; ++k) {
                    const double vkp = V[std::size_t(k) * n + p], vkq = V[std::size_t(k) * n + q];
                    V[std::size_t(k) * n + p] = c * vkp - s * vkq;
                    V[std::size_t(k) * n + q] = s * vkp + c * vkq;
                }
            }
    }
    double top = 0.0;
    for (int i = 0; i < n; ++i) top = std::max(top, std::fabs(a[std::size_t(i) * n + i]));
    const double cutoff = 2.220446049250313e-16 * n * top;
    std::fill(x, x + n, 0.0);
    for (int e = 0; e < n; ++e) {
        const double lambda = a[std::size_t(e) * n + e];
        if (std::fabs(lambda) <= cutoff) continue;
        double proj = 0.0;
        for (int k = 0; k < n; ++k) proj += V[std::size_t(k) * n + e] * rhs[k];
        for (int k = 0; k < n; ++k) x[k] += V[std::size_t(k) * n + e] * proj / lambda;
    }
}

// The Newton direction −M⁻¹ g (reference: _newton_direction): LU, or the least-norm solution where M is
// singular.
inline void newton_direction(const std::vector<double>& M, const std::vector<double>& g, int d, Scratch& s) {
    std::copy(M.begin(), M.end(), s.lu.begin());
    if (!lu_solve(s.lu.data(), d, g.data(), s.step.data(), s.piv.data()))
        least_norm_solve(M.data(), d, g.data(), s.step.data());
    for (int i = 0; i < d; ++i) s.step[i] = -s.step[i];
}

struct Outcome {
    double value;  // the objective at the returned θ
    int steps;     // accepted Newton steps (quadratic problems: 1)
};

// Minimises one problem from θ = 0 (reference: solve); θ (d entries) receives the minimiser.
inline Outcome solve(const Problem& p, const Settings& settings, double* theta, Scratch& s) {
    const int d = p.d;
    std::fill(theta, theta + d, 0.0);
    double f = value(p, theta, s.za);
    bool quadratic = p.n_pairs == 0;
    for (std::int64_t b = 0; b < p.n_rows; ++b) quadratic = quadratic && p.rows[b].kind == kSquare;
    if (quadratic) {  // one exact solve: H does not depend on θ
        derivatives(p, theta, s);
        newton_direction(s.H, s.g, d, s);
        for (int i = 0; i < d; ++i) theta[i] += s.step[i];
        return {value(p, theta, s.za), 1};
    }
    int steps = 0;
    for (int it = 0; it < settings.max_steps; ++it) {
        derivatives(p, theta, s);
        double gmax = 0.0;
        for (int i = 0; i < d; ++i) gmax = std::max(gmax, std::fabs(s.g[i]));
        const bool converged = gmax <= settings.gradient_tol * (1.0 + std::fabs(f));
        for (int i = 0; i < d; ++i) s.H[std::size_t(i) * d + i] += 1e-12;  // keeps flat directions invertible
        newton_direction(s.H, s.g, d, s);
        const double noise = settings.slack * (1.0 + std::fabs(f));  // f's rounding decides nothing
        if (converged) {  // one last full Newton step: θ at the minimiser to rounding, whatever the rounding
            for (int i = 0; i < d; ++i) s.cand[i] = theta[i] + s.step[i];
            const double fc = value(p, s.cand.data(), s.za);
            if (fc <= f + noise) {
                std::copy(s.cand.begin(), s.cand.end(), theta);
                f = fc;
                ++steps;
            }
            break;
        }
        const double slope = dot(s.g.data(), s.step.data(), d);
        double size = 1.0, fc = f;
        bool accepted = false;
        for (int back = 0; back < 40; ++back) {  // Armijo backtracking: a sufficient decrease only
            for (int i = 0; i < d; ++i) s.cand[i] = theta[i] + size * s.step[i];
            fc = value(p, s.cand.data(), s.za);
            if (fc <= f + noise && fc <= f + 1e-4 * size * slope + noise) {
                accepted = true;
                break;
            }
            size *= 0.5;
        }
        if (!accepted) break;
        std::copy(s.cand.begin(), s.cand.end(), theta);
        f = fc;
        ++steps;
    }
    return {f, steps};
}

// Solves every problem; theta_offsets[i] is where problem i's θ starts in `theta`.
inline void solve_all(const std::vector<Problem>& problems, const std::int64_t* theta_offsets, const Settings& settings,
                      double* theta, double* values, std::int64_t* steps) {
    const std::int64_t n = static_cast<std::int64_t>(problems.size());
    ParallelErrors errors;
    const int threads = static_cast<int>(std::min<std::int64_t>(resolve_threads(settings.threads), std::max<std::int64_t>(n, 1)));
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t i = 0; i < n; ++i) {
        errors.run([&] {
            Scratch s(problems[i].d);
            const Outcome out = solve(problems[i], settings, theta + theta_offsets[i], s);
            values[i] = out.value;
            steps[i] = out.steps;
        });
    }
    (void)threads;
    errors.rethrow();
}

}  // namespace socialrec::fold_in
