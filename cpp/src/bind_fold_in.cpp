// socialrec._core.fold_in_solve: a batch of fold-in row problems (socialrec/fold_in.hpp), packed by
// python/socialrec/models/_fold_in_kernel.py.
#include <string>

#include "bindings.hpp"
#include "socialrec/fold_in.hpp"

namespace socialrec::bind {
namespace {

void fold_in_check(bool ok, const std::string& what) {
    if (!ok) throw py::value_error("fold_in_solve: " + what);
}

// [lo, lo + n) inside [0, size)
bool fold_in_inside(std::int64_t lo, std::int64_t n, std::int64_t size) { return lo >= 0 && n >= 0 && lo <= size - n; }

py::tuple fold_in_solve(const py::dict& a, int max_steps, double gradient_tol, double slack, int threads) {
    std::int64_t P, n_mats, n_consts, n_row_data, n_pair_data, B, G;
    const auto* dims = input_data<std::int64_t>(a, "dims", &P);
    const auto* mat_offsets = input_data<std::int64_t>(a, "mat_offsets", P);
    const auto* mats = input_data<double>(a, "mats", &n_mats);
    const auto* consts = input_data<double>(a, "consts", &n_consts);
    fold_in_check(n_consts == P, "consts must have one entry per problem");
    const auto* row_start = input_data<std::int64_t>(a, "row_start", P + 1);
    const auto* row_kind = input_data<std::int64_t>(a, "row_kind", &B);
    const auto* row_n = input_data<std::int64_t>(a, "row_n", B);
    const auto* row_offset = input_data<std::int64_t>(a, "row_offset", B);
    const auto* row_data = input_data<double>(a, "row_data", &n_row_data);
    const auto* pair_start = input_data<std::int64_t>(a, "pair_start", P + 1);
    const auto* pair_w = input_data<double>(a, "pair_w", &G);
    const auto* pair_na = input_data<std::int64_t>(a, "pair_na", G);
    const auto* pair_nb = input_data<std::int64_t>(a, "pair_nb", G);
    const auto* pair_offset = input_data<std::int64_t>(a, "pair_offset", G);
    const auto* pair_data = input_data<double>(a, "pair_data", &n_pair_data);
    fold_in_check(max_steps >= 0, "max_steps must be >= 0");
    fold_in_check(row_start[0] == 0 && row_start[P] == B && pair_start[0] == 0 && pair_start[P] == G,
          "row_start / pair_start must run from 0 to the number of blocks");

    std::vector<fold_in::RowBlock> rows(static_cast<std::size_t>(B));
    std::vector<fold_in::PairGroup> pairs(static_cast<std::size_t>(G));
    std::vector<fold_in::Problem> problems(static_cast<std::size_t>(P));
    std::vector<std::int64_t> theta_offsets(static_cast<std::size_t>(P) + 1, 0);
    for (std::int64_t i = 0; i < P; ++i) {
        const std::int64_t d = dims[i];
        fold_in_check(d >= 1 && d <= 4096, "problem " + std::to_string(i) + " has dimension " + std::to_string(d));
        fold_in_check(fold_in_inside(mat_offsets[i], d * d + d, n_mats), "problem " + std::to_string(i) + ": R, s out of range");
        fold_in_check(row_start[i] <= row_start[i + 1] && pair_start[i] <= pair_start[i + 1],
              "row_start / pair_start must be non-decreasing");
        for (std::int64_t b = row_start[i]; b < row_start[i + 1]; ++b) {
            const std::int64_t n = row_n[b];
            fold_in_check(row_kind[b] >= 0 && row_kind[b] <= 2, "row block " + std::to_string(b) + ": unknown kind");
            fold_in_check(n >= 0 && fold_in_inside(row_offset[b], n * (d + 3), n_row_data), "row block " + std::to_string(b) +
                                                                                ": data out of range");
            const double* base = row_data + row_offset[b];
            rows[b] = {row_kind[b], n, base, base + n * d, base + n * (d + 1), base + n * (d + 2)};
        }
        for (std::int64_t q = pair_start[i]; q < pair_start[i + 1]; ++q) {
            const std::int64_t na = pair_na[q], nb = pair_nb[q];
            fold_in_check(na >= 0 && nb >= 0 && fold_in_inside(pair_offset[q], na * (d + 1) + nb * (d + 2), n_pair_data),
                  "pair group " + std::to_string(q) + ": data out of range");
            const double* A = pair_data + pair_offset[q];
            const double* Bm = A + na * (d + 1);
            pairs[q] = {pair_w[q], na, nb, A, A + na * d, Bm, Bm + nb * d, Bm + nb * (d + 1)};
        }
        const double* R = mats + mat_offsets[i];
        problems[i] = {static_cast<int>(d), R, R + d * d, consts[i], rows.data() + row_start[i],
                       row_start[i + 1] - row_start[i], pairs.data() + pair_start[i], pair_start[i + 1] - pair_start[i]};
        theta_offsets[i + 1] = theta_offsets[i] + d;
    }
    py::array_t<double> theta(theta_offsets[P]);
    py::array_t<double> values(P);
    py::array_t<std::int64_t> steps(P);
    double* t = theta.mutable_data();
    double* v = values.mutable_data();
    std::int64_t* s = steps.mutable_data();
    const fold_in::Settings settings{max_steps, gradient_tol, slack, threads};
    without_gil([&] {
        fold_in::solve_all(problems, theta_offsets.data(), settings, t, v, s);
        return 0;
    });
    return py::make_tuple(theta, values, steps);
}

const Registrar fold_in_registrar{[](py::module_& m) {
    m.def("fold_in_solve", &fold_in_solve, py::arg("arrays"), py::arg("max_steps"), py::arg("gradient_tol"),
          py::arg("slack"), py::arg("threads") = 0,
          "Minimise a batch of packed fold-in row problems (socialrec/fold_in.hpp); returns (theta, values, "
          "steps): the minimisers concatenated, each problem's final objective and its accepted Newton steps.");
}};

}  // namespace
}  // namespace socialrec::bind
