"""Batch-size scaling rules: linear scaling of eta (C3), momentum and second-moment horizons (C4), and
"don't decay the learning rate, increase the batch size" (C5).  Exact predictions only; nothing is fitted.

Sources: seed 003 (D. McAllester, TTIC 31230), slides "Scaling eta", "Scaling N_mu", "Scaling N_s"; seed 001
(KAIST EE807, batch-size slides); Goyal et al. 2017 (linear scaling); Smith, Kindermans, Ying & Le 2018,
"Don't Decay the Learning Rate, Increase the Batch Size" (noise scale g = eta n / B, their eq. 1-3).

C3, one step against B steps.  Per-example gradients affine, grad L_i(x) = a_i + H_i x (a quadratic finite sum).
B steps at batch 1 on the examples i_1..i_B (in that order) at rate eta_1, against one step at batch B on the
same examples at rate eta_B = B eta_1:

    x_B - y = eta_1^2 sum_{j<k} H_{i_k} grad L_{i_j}(x_0) + O(eta_1^3),   y = x_0 - B eta_1 mean_j grad L_{i_j}(x_0),

(``symbolic_one_vs_many``: SymPy composition with non-commuting matrix symbols), so the linear rule is exact to
first order; with eta_B = eta_1 (no scaling) the difference is -(B - 1) eta_1 mean_j grad L_{i_j} + O(eta^2).

C3, stationary excess loss.  The exact second-moment recursion (``sgd_moments.SGDMoments``) has the fixed point
z = (I - A0 - eta A1 - eta^2 A2)^{-1} eta^2 b, and E L - L* = tr(Hbar S)/2.  The Lyapunov form
Hbar S + S Hbar - eta E[H_B S H_B] = eta c_B (Sigma + ...) (c_B = 1/B with replacement) gives
S = (eta/B) S_1 + O(eta^2/B), Hbar S_1 + S_1 Hbar = Sigma, so E L - L* = (eta/B) tr Sigma / 4 + O(eta^2/B): the first
order depends on eta/B only (seed 003's quadratic-basin theorem with c_B); the differences between pairs with the
same eta/B are O(eta^2/B) -- computed exactly here.

C4, what is matched (seed 003's reparameterisation mu_t = (1 - 1/N) mu_{t-1} + g_t/N, Phi -= eta' mu_t, which is
heavy ball v = beta v + g, Phi -= lr v with beta = 1 - 1/N, lr = eta'/N).  Count time in examples seen, tau = B t.
With N_B = N_1/B and eta'_B = B eta'_1 a step moves mu by (B/N_1)(g - mu) with noise variance (B/N_1)^2 sigma^2/B
and Phi by B eta'_1 mu: per example seen, drift (g - mu)/N_1 and -eta'_1 mu, noise variance sigma^2/N_1^2 -- the
same for every B.  So the pair (Phi, mu) has, to first order in the per-step changes, one diffusion limit in
tau whatever B; precisely:

* the EMA of minibatch gradients at a fixed point has Var mu = sigma^2 / (B (2 N_B - 1)) = sigma^2/(2 N_1 - B)
  (exact; batch 1: sigma^2/(2 N_1 - 1); relative difference (B - 1)/(2 N_1 - B) = O(B/N_1));  the unscaled
  horizon N_B = N_1 gives sigma^2/(B (2 N_1 - 1)), off by the factor B;
* on a Gaussian-noise quadratic the stationary covariance of the heavy-ball iterate (exact discrete Lyapunov
  equation of the augmented linear system, ``heavy_ball_covariance``) at (eta'_B, N_B) = (B eta'_1, N_1/B)
  equals the batch-1 one up to a relative O(eps) when 1/N_1 = a eps and eta'_1 = c eps (the two time scales kept
  in proportion); with the unscaled horizon (N_B = N_1, eta'_B = B eta'_1) it differs at O(1).

N_s (seed 003, "Scaling N_s"): the second-moment estimate must average per-example squares g_i^2 over examples,
N_s counting examples: s <- (1 - 1/N_s) s + g_i^2/N_s once per example of the batch.  The stream of per-example
squares is i.i.d. (batches with replacement) whatever B, so s has the same law at every example count: E s =
mean_i g_i^2, Var s = Var_i(g_i^2)/(2 N_s - 1) exactly, independent of B.  The engine's RMSProp/Adam average the
square of the batch mean, E g_B^2 = gbar^2 + Sigma/B: its mean depends on B, and no choice of horizon fixes that
(``batch_mean_square_ema`` gives its exact mean and variance, the control).

C5 (Smith et al. 2018): a schedule is a list of stages (eta_k, B_k, epochs_k) on n examples; stage k takes
epochs_k n / B_k updates.  The exact moments follow piecewise (``staged_moments``).  Two schedules with the same
noise scale eta_k n / B_k and the same epochs per stage have the same "time" eta_k n/B_k per epoch and the same
temperature eta_k/B_k: the same excess loss per epoch to first order, with n/B_k updates per epoch.

C6 helpers (claim ``claims.sharp_minima``): ``sharp_flat_problem`` (equal-depth sharp and flat minima, gradient
noise larger at the sharp one), ``transient_occupancy`` (the exact discrete chain of ``basins_1d.DiscreteChain``
propagated step by step from a start point) and ``two_state_occupancy`` (the Kramers / Fokker--Planck two-state
reduction with rates 1/MFPT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import linalg

from ..errors import SgdTheoryError, check_float, check_int
from .quadratic_basin import QuadraticBasin
from .sgd_moments import SGDMoments

# -- C3: one step at batch B against B steps at batch 1 ------------------------------------------------------


@lru_cache(maxsize=4)
def symbolic_one_vs_many(B: int = 3):
    """SymPy: x_B (B steps at eta) minus one step at B eta, for grad L_k(x) = a_k + H_k x (non-commuting symbols).

    Returns (coefficients of eta^0..eta^2 of the difference, the closed form of the eta^2 term, the unscaled
    control's eta^1 coefficient, their differences from the formulas (all zero)).
    """
    import sympy as sp

    B = check_int(B, "B", 2, 5)
    eta = sp.Symbol("eta", positive=True)
    x0 = sp.Symbol("x0", commutative=False)
    a = [sp.Symbol(f"a{k}", commutative=False) for k in range(1, B + 1)]
    H = [sp.Symbol(f"H{k}", commutative=False) for k in range(1, B + 1)]
    x = x0
    for k in range(B):
        x = sp.expand(x - eta * (a[k] + H[k] * x))
    big = x0 - B * eta * sum((a[k] + H[k] * x0) for k in range(B)) / B
    unscaled = x0 - eta * sum((a[k] + H[k] * x0) for k in range(B)) / B
    diff = sp.expand(x - big)
    coeffs = [sp.expand(diff.coeff(eta, j)) if j else sp.expand(diff.subs(eta, 0)) for j in range(3)]
    closed = sp.expand(sum(H[k] * (a[j] + H[j] * x0) for k in range(B) for j in range(k)))
    ctrl = sp.expand(x - unscaled)
    ctrl1 = sp.expand(ctrl.coeff(eta, 1))
    ctrl1_formula = sp.expand(-(B - 1) * sum((a[k] + H[k] * x0) for k in range(B)) / B)
    return {"eta": eta, "coeffs": coeffs, "eta2_closed": closed, "eta2_residual": sp.expand(coeffs[2] - closed),
            "control_eta1": ctrl1, "control_eta1_residual": sp.expand(ctrl1 - ctrl1_formula), "B": B}


def eta2_coefficient(grads_at_x0: np.ndarray, H_seq: np.ndarray) -> np.ndarray:
    """sum_{j<k} H_{i_k} grad L_{i_j}(x0) for the examples in order (rows of ``grads_at_x0``, ``H_seq``)."""
    out = np.zeros(grads_at_x0.shape[1])
    for k in range(1, grads_at_x0.shape[0]):
        out += H_seq[k] @ grads_at_x0[:k].sum(axis=0)
    return out


def one_vs_many_difference(problem, order, x0, eta1: float, scaled: bool = True) -> np.ndarray:
    """x_B(B steps at batch 1, rate eta1) - (one step at batch B, rate B eta1 if scaled else eta1), float64."""
    order = np.asarray(order, dtype=np.int64)
    x = np.asarray(x0, dtype=np.float64).copy()
    for i in order:
        x = x - eta1 * problem.gradients(x)[i]
    g = problem.gradients(np.asarray(x0, dtype=np.float64))[order].mean(axis=0)
    y = np.asarray(x0, dtype=np.float64) - (order.size if scaled else 1) * eta1 * g
    return x - y


def polynomial_difference(problem, order, x0, scaled: bool = True) -> np.ndarray:
    """Exact coefficients (powers of eta1, lowest first; shape (B + 1, d)) of ``one_vs_many_difference``:
    the B affine maps composed as matrix polynomials (numpy.polynomial arithmetic, no rounding beyond float64)."""
    from numpy.polynomial import polynomial as P

    order = np.asarray(order, dtype=np.int64)
    x0 = np.asarray(x0, dtype=np.float64)
    d = x0.size
    A0 = problem.gradients(np.zeros(d))  # a_i (gradients at the origin)
    H = problem.H
    # state: list of d polynomials (coefficient arrays) in eta
    state = [np.array([x0[j]]) for j in range(d)]
    for i in order:
        new = []
        for r in range(d):
            gr = np.array([A0[i, r]])
            for c in range(d):
                gr = P.polyadd(gr, H[i, r, c] * state[c])
            new.append(P.polysub(state[r], P.polymulx(gr)))
        state = new
    g = problem.gradients(x0)[order].mean(axis=0)
    s = order.size if scaled else 1
    out = np.zeros((order.size + 1, d))
    for r in range(d):
        diff = P.polysub(state[r], np.array([x0[r], -s * g[r]]))
        out[: diff.size, r] = diff
    return out


# -- C3: stationary excess loss -----------------------------------------------------------------------------


def stationary_second_moments(basin: QuadraticBasin, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact stationary (m, S) of SGD on the basin (fixed point of the ``SGDMoments`` recursion)."""
    sm = SGDMoments(basin)
    d = basin.d
    M = sm.A0 + eta * sm.A1 + eta**2 * sm.A2
    k = M.shape[0]
    rho = float(np.max(np.abs(np.linalg.eigvals(M))))
    if not rho < 1.0:
        raise SgdTheoryError(f"eta = {eta:g}: the second moments of SGD diverge (spectral radius {rho:.6g} >= 1)")
    z = np.linalg.solve(np.eye(k) - M, eta**2 * sm.b)
    return z[:d], z[d:].reshape(d, d)


def stationary_excess(basin: QuadraticBasin, eta: float) -> float:
    """E L(w) - L* = tr(Hbar S)/2 in the stationary law (exact)."""
    _, S = stationary_second_moments(basin, eta)
    return 0.5 * float(np.trace(basin.mean_hessian @ S))


def first_order_excess_coefficient(basin: QuadraticBasin) -> float:
    """lim_{eta -> 0} (E L - L*) / (eta c_B) = tr Sigma / 4 (seed 003's quadratic-basin theorem; c_B = 1/B)."""
    return 0.25 * float(np.trace(basin.gradient_second_moment))


# -- C4: momentum and second-moment horizons ----------------------------------------------------------------


def heavy_ball_params(eta_prime: float, N: float) -> tuple[float, float]:
    """McAllester's (eta', N) -> heavy ball (lr, beta): v = beta v + g, w -= lr v with beta = 1 - 1/N, lr = eta'/N."""
    return eta_prime / N, 1.0 - 1.0 / N


def heavy_ball_covariance(H, C, lr: float, beta: float, B: int = 1) -> np.ndarray:
    """Exact stationary covariance (2d x 2d) of (w - w*, v) for heavy ball on L = x.Hx/2 with gradient noise C/B.

    v' = beta v + H x + xi,  x' = x - lr v' = (I - lr H) x - lr beta v - lr xi;  xi ~ N(0, C/B).
    X' = A X + K xi with A = [[I - lr H, -lr beta I], [H, beta I]], K = [-lr I; I]; S = A S A^T + K (C/B) K^T
    (scipy.linalg.solve_discrete_lyapunov; requires spectral radius of A < 1)."""
    H = np.asarray(H, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    d = H.shape[0]
    I = np.eye(d)
    A = np.block([[I - lr * H, -lr * beta * I], [H, beta * I]])
    rho = float(np.max(np.abs(np.linalg.eigvals(A))))
    if not rho < 1.0:
        raise SgdTheoryError(f"lr = {lr:g}, beta = {beta:g}: heavy ball is unstable here (spectral radius {rho:.6g})")
    K = np.vstack([-lr * I, I])
    Q = K @ (C / B) @ K.T
    S = linalg.solve_discrete_lyapunov(A, Q)
    return 0.5 * (S + S.T)


def heavy_ball_excess(H, C, eta_prime: float, N: float, B: int) -> float:
    """Stationary E L - L* = tr(H S_xx)/2 of heavy ball in McAllester's parameters (eta', N) at batch B."""
    lr, beta = heavy_ball_params(eta_prime, N)
    S = heavy_ball_covariance(H, C, lr, beta, B)
    d = np.asarray(H).shape[0]
    return 0.5 * float(np.trace(np.asarray(H) @ S[:d, :d]))


def scaled_momentum(eta_prime1: float, N1: float, B: int, rule: str = "scaled") -> tuple[float, float]:
    """(eta'_B, N_B): 'scaled' = (B eta'_1, N_1/B) (seed 003); 'unscaled' = (B eta'_1, N_1) (the control)."""
    if rule == "scaled":
        return B * eta_prime1, N1 / B
    if rule == "unscaled":
        return B * eta_prime1, N1
    raise SgdTheoryError(f"rule: expected 'scaled' or 'unscaled', got {rule!r}")


def ema_noise_variance(sigma2: float, N: float, B: int) -> float:
    """Var of the stationary EMA m = (1 - 1/N) m + x/N of i.i.d. x with Var x = sigma2/B: sigma2/(B (2N - 1))."""
    return sigma2 / (B * (2.0 * N - 1.0))


def ema_stationary_variance(var_x: float, N: float, steps: int | None = None) -> float:
    """Var of m_t (m_0 = 0) after ``steps`` updates (None: stationary): var_x (1/N^2)(1 - beta^(2t))/(1 - beta^2)."""
    beta = 1.0 - 1.0 / N
    tail = 0.0 if steps is None else beta ** (2 * steps)
    return var_x / N**2 * (1.0 - tail) / (1.0 - beta**2)


def per_example_square_ema(sq: np.ndarray, N_s: float, examples: int | None = None) -> tuple[float, float]:
    """Exact (mean, variance) of s after ``examples`` per-example updates s <- (1 - 1/N_s) s + g_i^2/N_s (s_0 = 0),
    g_i^2 drawn uniformly from ``sq``: independent of the batch size."""
    beta = 1.0 - 1.0 / N_s
    t = examples
    mean = float(np.mean(sq)) * (1.0 - (0.0 if t is None else beta**t))
    return mean, ema_stationary_variance(float(np.var(sq)), N_s, t)


def batch_mean_square_ema(g: np.ndarray, N: float, B: int, steps: int | None = None) -> tuple[float, float]:
    """Exact (mean, variance) of s <- (1 - 1/N) s + (g_B)^2/N (the engine's RMSProp/Adam second moment) after
    ``steps`` batches, g_B the mean of B values drawn uniformly with replacement from ``g``.

    E g_B^2 = gbar^2 + s2/B; Var(g_B^2) from the moments of the centred batch mean: with u = g - gbar,
    E u_B^2 = s2/B, E u_B^3 = k3/B^2, E u_B^4 = (k4 + 3(B - 1) s2^2)/B^3 (k3, k4: central moments of g), and
    g_B^2 = gbar^2 + 2 gbar u_B + u_B^2."""
    g = np.asarray(g, dtype=np.float64)
    gb = float(g.mean())
    u = g - gb
    s2, k3, k4 = float(np.mean(u**2)), float(np.mean(u**3)), float(np.mean(u**4))
    m2, m3, m4 = s2 / B, k3 / B**2, (k4 + 3 * (B - 1) * s2**2) / B**3
    mean_sq = gb**2 + m2
    var_sq = 4 * gb**2 * m2 + 4 * gb * m3 + m4 - m2**2
    beta = 1.0 - 1.0 / N
    mean = mean_sq * (1.0 - (0.0 if steps is None else beta**steps))
    return mean, ema_stationary_variance(var_sq, N, steps)


# -- C5: piecewise schedules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """``epochs`` epochs at rate ``eta`` and batch ``batch`` (n / batch updates per epoch)."""

    eta: float
    batch: int
    epochs: int


def schedule(kind: str, eta0: float, B0: int, factor: int, n_stages: int, epochs: int) -> list[Stage]:
    """Smith et al. (2018) schedules: 'decay' (eta0/f^k, B0), 'grow' (eta0, B0 f^k), 'grow_and_decay' (the control:
    eta0/f^k, B0 f^k -- B changed without matching eta, noise scale falling as f^-2k)."""
    f = check_int(factor, "factor", 2, 16)
    out = []
    for k in range(check_int(n_stages, "n_stages", 1, 12)):
        if kind == "decay":
            out.append(Stage(eta0 / f**k, B0, epochs))
        elif kind == "grow":
            out.append(Stage(eta0, B0 * f**k, epochs))
        elif kind == "grow_and_decay":
            out.append(Stage(eta0 / f**k, B0 * f**k, epochs))
        else:
            raise SgdTheoryError(f"kind: expected 'decay', 'grow' or 'grow_and_decay', got {kind!r}")
    return out


def noise_scale(stage: Stage, n: int) -> float:
    """Smith et al.'s g = eta n / B (their eq. 3 for B << n)."""
    return stage.eta * n / stage.batch


def updates(stages: list[Stage], n: int) -> int:
    """Total number of parameter updates: sum_k epochs_k n / B_k."""
    return int(sum(s.epochs * n // s.batch for s in stages))


def staged_moments(g: np.ndarray, H: np.ndarray, stages: list[Stage], delta0) -> np.ndarray:
    """Exact E L - L* at the end of every epoch (and at the start), shape (1 + total epochs,), for SGD with batches
    drawn with replacement following ``stages``; per-example gradients g_i + H_i Delta at Delta = w - w*
    (mean_i g_i = 0).  Within a stage z_t = M^t z_0 + (I - M)^{-1}(I - M^t) eta^2 b (the ``SGDMoments`` recursion)."""
    n = g.shape[0]
    d = g.shape[1]
    delta0 = np.asarray(delta0, dtype=np.float64)
    z = np.concatenate([delta0, np.outer(delta0, delta0).reshape(-1)])
    Hbar = H.mean(axis=0)
    out = [0.5 * float(delta0 @ Hbar @ delta0)]
    for st in stages:
        if n % st.batch:
            raise SgdTheoryError(f"batch: {st.batch} does not divide n = {n} (an epoch must be a whole number of updates)")
        sm = SGDMoments(QuadraticBasin(g, H, st.batch, "with_replacement"))
        M = sm.A0 + st.eta * sm.A1 + st.eta**2 * sm.A2
        steps = n // st.batch
        Mt = np.linalg.matrix_power(M, steps)
        k = M.shape[0]
        fixed = np.linalg.solve(np.eye(k) - M, st.eta**2 * sm.b)
        for _ in range(st.epochs):
            z = Mt @ (z - fixed) + fixed
            S = z[d:].reshape(d, d)
            out.append(0.5 * float(np.trace(Hbar @ S)))
    return np.array(out)


def check_stages(stages: list[Stage], n: int) -> list[Stage]:
    for k, s in enumerate(stages):
        check_float(s.eta, f"stage {k}: eta", 0.0)
        check_int(s.batch, f"stage {k}: batch", 1, n)
        check_int(s.epochs, f"stage {k}: epochs", 1, 10_000)
        if n % s.batch:
            raise SgdTheoryError(f"stage {k}: batch = {s.batch} must divide n = {n}")
    return stages


# -- C6: a sharp and a flat minimum of equal depth, noise growing with curvature ---------------------------------


def sharp_flat_problem(kappa: float = 0.5, quad: float = 0.25, spread: float = 100.0, floor: float = 60.0,
                       name: str = "sharp and flat minima, curvature-dependent noise"):
    """L = (w^2 - 1)^2 (1 + kappa w + quad w^2): minima at -1 and +1 of equal depth L = 0 with curvatures
    8 (1 - kappa + quad) and 8 (1 + kappa + quad) (kappa > 0: +1 is the sharp one).  Four examples
    L_i = L + b_i (w + 1)^3 / 12 + c_i w with (b_i, c_i) = (+-sqrt(spread), +-sqrt(floor)) (all four sign pairs;
    the construction of ``basins_1d.cartoon_problem`` on this L), so mean_i L_i = L exactly, the per-example
    curvatures L'' + b_i (w + 1)/2 spread more and more towards the sharp minimum, and the gradient noise is
    Sigma(w) = spread (w + 1)^4 / 16 + floor: floor at the flat minimum, spread + floor at the sharp one
    (Keskar et al. 2017's picture: the sharp minimum is where the examples disagree; seeds 000, 004).  The
    noise grows like w^4 while L' grows like w^5, so the tails stay light and SGD stable."""
    from numpy.polynomial import polynomial as npoly

    from ..problems import PolynomialFiniteSum1D

    kappa = check_float(kappa, "kappa", 0.0, 0.9)
    quad = check_float(quad, "quad", 0.0, 2.0)
    if kappa**2 >= 4 * quad:
        raise SgdTheoryError(f"kappa: 1 + kappa w + quad w^2 must stay positive (kappa^2 < 4 quad = {4 * quad:g})")
    spread = check_float(spread, "spread", 0.0, 1e4, low_open=False)
    floor = check_float(floor, "floor", 0.0, 1e4)
    L = npoly.polymul(npoly.polymul([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]), [1.0, kappa, quad])
    cube = np.zeros(L.size)
    cube[:4] = np.array([1.0, 3.0, 3.0, 1.0]) / 12.0  # (w + 1)^3 / 12
    lin = np.zeros(L.size)
    lin[1] = 1.0
    rows = [L + sb * np.sqrt(spread) * cube + sc * np.sqrt(floor) * lin for sb in (1.0, -1.0) for sc in (1.0, -1.0)]
    return PolynomialFiniteSum1D(np.array(rows), 0.0, name=name)


def transient_occupancy(chain, w0: float, split: float, n_steps: int) -> float:
    """(1/K) sum_{k=0}^{K-1} P(w_k < split) for the discrete chain started at w0 (split linearly between its two
    neighbouring nodes): the expected fraction of the first K iterates left of ``split`` -- what
    ``_kernels.basins.basin_paths`` measures per path with burn_in = 0.  pi_(k+1) = P^T pi_k, exact."""
    g = chain.grid
    h = g[1] - g[0]
    u = (float(w0) - g[0]) / h
    k = int(np.floor(u))
    if not 0 <= k < g.size - 1:
        raise SgdTheoryError(f"w0 = {w0:g} lies outside the chain's grid [{g[0]:g}, {g[-1]:g}]")
    pi = np.zeros(g.size)
    pi[k], pi[k + 1] = 1.0 - (u - k), u - k
    PT = chain.P.T.tocsr()
    below = g < split
    acc = 0.0
    for _ in range(check_int(n_steps, "n_steps", 1)):
        acc += float(pi[below].sum())
        pi = PT @ pi
    return acc / n_steps


def two_state_occupancy(rate_in: float, rate_out: float, horizon: float) -> float:
    """Time-averaged occupancy of basin F over [0, T] for a two-state chain started in the other basin, entering F
    at rate_in and leaving at rate_out: p (1 - (1 - e^(-lam T))/(lam T)), lam = rate_in + rate_out,
    p = rate_in/lam (the Kramers / Fokker-Planck reduction with rates 1/MFPT)."""
    lam = rate_in + rate_out
    if lam * horizon < 1e-12:
        return 0.5 * rate_in * horizon
    return rate_in / lam * (1.0 - (1.0 - np.exp(-lam * horizon)) / (lam * horizon))


__all__ = ["symbolic_one_vs_many", "eta2_coefficient", "one_vs_many_difference", "polynomial_difference",
           "stationary_second_moments", "stationary_excess", "first_order_excess_coefficient", "heavy_ball_params",
           "heavy_ball_covariance", "heavy_ball_excess", "scaled_momentum", "ema_noise_variance",
           "ema_stationary_variance", "per_example_square_ema", "batch_mean_square_ema", "Stage", "schedule",
           "noise_scale", "updates", "staged_moments", "check_stages", "sharp_flat_problem",
           "transient_occupancy", "two_state_occupancy"]
