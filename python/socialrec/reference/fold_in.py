"""The row problem of fold-in and its reference solver: the executable specification of the C++ kernel
``socialrec._core.fold_in_solve`` (cpp/include/socialrec/fold_in.hpp mirrors ``solve``, ``RowProblem.value``
and ``RowProblem.derivatives`` line by line; the two agree to 1e-10 in float64, tests/test_fold_in.py).

Fold-in (DESIGN §2b) gives one parameter row (a factor vector, with its bias where the model has one) the
minimiser of a model's own objective with every other parameter fixed; models/_fold_in.py builds the
problems, models/_fold_in_models.py writes each model's terms, models/_fold_in_kernel.py packs a batch of
problems for the kernel.

Every model's terms in one row ``θ`` (dimension d) take one of three forms:
* **rows** ``j``: ``w_j ℓ(t_j, o_j + a_j·θ)`` with ``ℓ`` per row
    - ``"square"``   ½ (t − z)²                 (identity-link ratings, TrustSVD's trust term)
    - ``"logistic"`` ½ (t − g(z))², g logistic  (the [0, 1] models' ratings and links; Ma et al. 2008 eq. 4)
    - ``"softplus"`` −ln σ(z) = ln(1 + e^−z)     (a BPR pair seen from one side; Rendle et al. 2009 eq. 4)
* **pair groups** (BPR/SBPR seen from the user): ``w Σ_{a∈A, b∈B} −ln σ(s_b ((o_a + A_a·θ) − (o_b + B_b·θ)))``,
  every pair of two item sets, kept as two matrices rather than |A|·|B| rows;
* a **quadratic** ``½ θᵀ R θ − s·θ + c``: the L2 penalties (summed over the observations that carry them)
  and the pulls ``½ w ‖x − a‖²`` toward fixed rows (SocialMF, SoReg, SocialALS).

``solve`` minimises: when every term is quadratic (no logistic or softplus term) by one linear solve of the
normal equations ``(Aᵀ W A + R) θ = Aᵀ W (t − o) + s`` (the least-norm solution where that system is singular,
e.g. no observation at all: θ = 0); otherwise by at most ``MAX_STEPS`` Newton steps (Gauss–Newton for the
logistic squared error, whose exact Hessian is not PSD) with a backtracking line search from θ = 0 that
only accepts a step that lowers the objective (up to its rounding, ``SLACK``), so the objective never
increases; once the gradient is below the tolerance, one last full Newton step puts θ at the minimiser to
rounding (so that two implementations that round differently return the same θ).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

MAX_STEPS = 50          # Newton steps of a non-quadratic row at most
GRADIENT_TOL = 1e-10    # stop when the gradient's max-norm is below this (times 1 + |f|)
SLACK = 1e-13           # objective changes below this (times 1 + |f|) are rounding: the line search ignores them
KINDS = ("square", "logistic", "softplus")


def _sigmoid(z):
    """σ(z) = 1 / (1 + e^−z) without overflow warnings (float64)."""
    return np.exp(-np.logaddexp(0.0, -z))


@dataclass
class RowProblem:
    """One row's objective (module docstring). Build with ``RowProblem(d)`` and the ``add_*`` methods."""

    dim: int
    rows: list = field(default_factory=list)    # (kind, A (n, d), o (n,), t (n,), w (n,))
    pairs: list = field(default_factory=list)   # (w, A (m, d), oa (m,), B (n, d), ob (n,), scale (n,))
    R: Optional[np.ndarray] = None
    s: Optional[np.ndarray] = None
    const: float = 0.0
    penalty: Optional[np.ndarray] = None        # the part of diag(R) that ``add_ridge`` put there (L2 penalties)

    def __post_init__(self):
        self.R = np.zeros((self.dim, self.dim))
        self.s = np.zeros(self.dim)
        self.penalty = np.zeros(self.dim)

    def add_rows(self, kind, A, o, t, w=1.0):
        """Observation rows ``w_j ℓ_kind(t_j, o_j + A_j·θ)``; ``w`` a scalar or one weight per row."""
        assert kind in KINDS, kind
        A = np.asarray(A, dtype=np.float64).reshape(-1, self.dim)
        n = len(A)
        if n:
            self.rows.append((kind, A, _vector(o, n), _vector(t, n), _vector(w, n)))

    def add_pairs(self, w, A, oa, B, ob, scale=1.0):
        """A pair group ``w Σ_{a,b} −ln σ(scale_b ((oa_a + A_a·θ) − (ob_b + B_b·θ)))``."""
        A = np.asarray(A, dtype=np.float64).reshape(-1, self.dim)
        B = np.asarray(B, dtype=np.float64).reshape(-1, self.dim)
        if len(A) and len(B) and w > 0:
            self.pairs.append((float(w), A, _vector(oa, len(A)), B, _vector(ob, len(B)), _vector(scale, len(B))))

    def add_ridge(self, weight, coords):
        """``½ weight θ_c²`` for each coordinate c in ``coords`` (a slice or index array)."""
        idx = np.arange(self.dim)[coords]
        self.R[idx, idx] += weight
        self.penalty[idx] += weight

    def add_pull(self, weight, anchor, coords=slice(None)):
        """``½ weight ‖θ_coords − anchor‖²`` (a pull toward a fixed row)."""
        anchor = np.asarray(anchor, dtype=np.float64)
        idx = np.arange(self.dim)[coords]
        self.R[idx, idx] += weight
        self.s[idx] += weight * anchor
        self.const += 0.5 * weight * float(anchor @ anchor)

    def add_quadratic(self, R, s=None):
        """``½ θᵀ R θ − s·θ`` (R symmetric PSD), e.g. WRMF's Gramian."""
        self.R += R
        if s is not None:
            self.s += s

    def centred(self, prior):
        """The problem in ``ε = θ − prior`` with its L2 penalties centred on ``prior``: every observation term
        reads ``prior + ε`` (row and pair offsets gain ``A·prior``; the quadratic's non-penalty part, e.g.
        WRMF's Gramian or a pull, is expanded around ``prior``), while each ``add_ridge`` penalty ½ w θ_c²
        becomes ½ w ε_c². That is a feature prior ``q = W x + ε`` with ε regularised toward 0 (issue 17);
        the least-norm minimiser of a problem with no term at all is ε = 0, i.e. θ = prior. A zero ``prior``
        gives this very problem back (the same numbers)."""
        prior = np.asarray(prior, dtype=np.float64)
        out = RowProblem(self.dim)
        data = self.R - np.diag(self.penalty)  # the non-penalty quadratic
        out.R, out.penalty = self.R.copy(), self.penalty.copy()
        out.s = self.s - data @ prior
        out.const = self.const + 0.5 * prior @ data @ prior - self.s @ prior
        out.rows = [(kind, A, o + A @ prior, t, w) for kind, A, o, t, w in self.rows]
        out.pairs = [(w, A, oa + A @ prior, B, ob + B @ prior, scale) for w, A, oa, B, ob, scale in self.pairs]
        return out

    @property
    def quadratic(self):
        """True when every term is quadratic in θ (one linear solve minimises it)."""
        return not self.pairs and all(kind == "square" for kind, *_ in self.rows)

    # -- value, gradient, (Gauss-)Newton matrix ---------------------------------------------------------
    def value(self, theta):
        """The objective at ``theta``."""
        theta = np.asarray(theta, dtype=np.float64)
        f = 0.5 * theta @ self.R @ theta - self.s @ theta + self.const
        for kind, A, o, t, w in self.rows:
            z = o + A @ theta
            if kind == "square":
                f += 0.5 * np.sum(w * (t - z) ** 2)
            elif kind == "logistic":
                f += 0.5 * np.sum(w * (t - _sigmoid(z)) ** 2)
            else:
                f += np.sum(w * np.logaddexp(0.0, -z))
        for w, A, oa, B, ob, scale in self.pairs:
            z = scale[None, :] * ((oa + A @ theta)[:, None] - (ob + B @ theta)[None, :])
            f += w * np.sum(np.logaddexp(0.0, -z))
        return float(f)

    def derivatives(self, theta):
        """(gradient, H): H the Hessian, Gauss–Newton's for the logistic rows (PSD everywhere)."""
        g = self.R @ theta - self.s
        H = self.R.copy()
        for kind, A, o, t, w in self.rows:
            z = o + A @ theta
            if kind == "square":
                dz, curv = -(t - z), np.ones_like(z)
            elif kind == "logistic":
                p = _sigmoid(z)
                slope = p * (1.0 - p)
                dz, curv = -(t - p) * slope, slope * slope
            else:
                q = _sigmoid(-z)
                dz, curv = -q, q * (1.0 - q)
            g += A.T @ (w * dz)
            H += A.T @ ((w * curv)[:, None] * A)
        for w, A, oa, B, ob, scale in self.pairs:
            z = scale[None, :] * ((oa + A @ theta)[:, None] - (ob + B @ theta)[None, :])
            q = _sigmoid(-z)
            c = -w * q * scale[None, :]                       # d/d(za − zb) of w·softplus(−z)
            h = w * q * (1.0 - q) * (scale * scale)[None, :]  # its second derivative
            g += A.T @ c.sum(axis=1) - B.T @ c.sum(axis=0)
            cross = A.T @ h @ B
            H += (A.T * h.sum(axis=1)) @ A + (B.T * h.sum(axis=0)) @ B - cross - cross.T
        return g, H


def _vector(x, n):
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


def _newton_direction(H, g):
    try:
        return -np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        return -np.linalg.lstsq(H, g, rcond=None)[0]


def solve(problem, start=None, max_steps=MAX_STEPS):
    """Minimise ``problem``; returns (θ, trace) with ``trace`` the objective after each accepted step (the
    first entry at the start), non-increasing. Quadratic problems: one exact solve (trace of two values)."""
    theta = np.zeros(problem.dim) if start is None else np.asarray(start, dtype=np.float64).copy()
    f = problem.value(theta)
    trace = [f]
    if problem.quadratic:
        g, H = problem.derivatives(theta)
        theta = theta + _newton_direction(H, g)  # the exact minimiser (H does not depend on θ)
        trace.append(problem.value(theta))
        return theta, trace
    for _ in range(max_steps):
        g, H = problem.derivatives(theta)
        converged = np.max(np.abs(g), initial=0.0) <= GRADIENT_TOL * (1.0 + abs(f))
        # a tiny ridge keeps H invertible where the terms leave a direction flat (no observations on it)
        step = _newton_direction(H + 1e-12 * np.eye(problem.dim), g)
        if converged:
            # one last full Newton step (quadratic convergence: it leaves θ at rounding of the minimiser), so
            # that the answer does not depend on which side of the tolerance rounding put the last gradient
            candidate = theta + step
            fc = problem.value(candidate)
            if fc <= f + SLACK * (1.0 + abs(f)):
                theta, f = candidate, fc
                trace.append(f)
            break
        slope = float(g @ step)
        size, accepted = 1.0, False
        noise = SLACK * (1.0 + abs(f))  # differences of f below its rounding decide nothing
        for _ in range(40):  # backtracking (Armijo): accept only a sufficient decrease
            candidate = theta + size * step
            fc = problem.value(candidate)
            if fc <= f + noise and fc <= f + 1e-4 * size * slope + noise:
                accepted = True
                break
            size *= 0.5
        if not accepted:
            break
        theta, f = candidate, fc
        trace.append(f)
    return theta, trace
