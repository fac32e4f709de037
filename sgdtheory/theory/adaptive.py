"""Adaptive methods exactly: AdaGrad's effective step, RMSProp's second moment, the forms of Adam and of
EMA momentum printed in the documents, and Wilson et al.'s (2017) least-squares construction.

Sources: seed 001 (KAIST EE807 lecture 2, slides "3. Adaptively changing learning rate (AdaGrad,
RMSProp)" and "Adaptive Learning Rate Methods: ADAM"); seed 000 (Huszar, DeepNN notes, sections
"Momentum" and "Adam"); seed 003 (McAllester, slides "RMSProp" and "Adam (simplified)"); Kingma & Ba,
ICLR 2015, Algorithm 1; Duchi, Hazan & Singer, JMLR 2011; Wilson, Roelofs, Stern, Srebro & Recht,
NeurIPS 2017, Section 3.3 and Lemma 3.1.

Every update here acts coordinate-wise on arrays of any shape (..., d), so one call advances many
independent Monte Carlo paths.  The package's optimizers (``optimizers.adaptive``) are the reference:
``adagrad_step``, ``rmsprop_step`` and the "published"/"uncorrected" Adam forms are written with the
same floating-point operations in the same order as their ``reference_step``, so they agree bit for
bit (tests/test_adaptive.py).

Adam forms (``ADAM_FORMS``), state (m, v) with m_0 = v_0 = 0 and step counter t = 1, 2, ...:

* ``published`` -- Kingma & Ba Algorithm 1: m_t = b1 m_(t-1) + (1-b1) g_t, v_t = b2 v_(t-1) + (1-b2) g_t^2,
  w_t = w_(t-1) - a (m_t/(1-b1^t)) / (sqrt(v_t/(1-b2^t)) + eps).  First step: a g/(|g| + eps).
* ``uncorrected`` -- seed 000's simplified Adam with the indices corrected (m_(t+1), v_(t+1) in the
  update; no bias correction): w_(t+1) = w_t - a m_(t+1)/(sqrt(v_(t+1)) + eps), i.e.
  ``Adam(bias_correction=False)``.  First step a (1-b1) g/(sqrt(1-b2)|g| + eps).
* ``printed_000`` -- seed 000 exactly as printed (erratum E7): w_(t+1) = w_t - a m_t/(sqrt(v_t) + eps)
  with the moments *before* this step's update: a delayed-gradient Adam; its first step is exactly 0.
* ``printed_001`` -- seed 001's slide exactly as printed (erratum E8): theta_(t+1) = theta_t - g m_t/sqrt(v_t),
  the update before the moment estimates, no eps, no bias correction: at t = 1, m_0/sqrt(v_0) = 0/0
  (NaN in IEEE 754 arithmetic), and NaN propagates to every later iterate.  With ``charitable=True``
  the 0/0 quotients are read as 0 (the first step is then 0, as in ``printed_000`` with eps = 0).
* ``mcallester`` -- seed 003's "Adam (simplified)": 1/min(t, N) running averages (N_g = 1/(1-b1),
  N_s = 1/(1-b2)), w_(t+1) = w_t - a mu_t/(sqrt(s_t) + eps).

EMA momentum (seed 000, "Momentum"): corrected m_(t+1) = b m_t + (1-b) g_t, w_(t+1) = w_t - eta m_(t+1)
(heavy ball with lr eta (1-b): stable on curvature h iff eta h < 2(1+b)/(1-b)); as printed w_(t+1) =
w_t - eta m_t (the stale buffer): stable iff eta h < 1 (``derive``: Jury conditions in SymPy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import SgdTheoryError, check_int

ADAM_FORMS = ("published", "uncorrected", "printed_000", "printed_001", "mcallester")
MOMENTUM_FORMS = ("corrected", "printed")


# ----------------------------------------------------------------------------------------------- steps
def adagrad_step(w, G, g, lr: float, eps: float):
    """AdaGrad (``optimizers.AdaGrad``): G <- G + g^2;  w <- w - lr g/(sqrt(G) + eps).  Returns (w, G)."""
    G = G + g * g
    return w - lr * g / (np.sqrt(G) + eps), G


def rmsprop_step(w, v, g, lr: float, beta: float, eps: float):
    """RMSProp (``optimizers.RMSProp``): v <- beta v + (1 - beta) g^2;  w <- w - lr g/(sqrt(v) + eps)."""
    v = beta * v + (1.0 - beta) * g * g
    return w - lr * g / (np.sqrt(v) + eps), v


@dataclass(frozen=True)
class AdamParams:
    """alpha (step), beta1, beta2, eps of every Adam form; N_g, N_s of McAllester's form."""

    alpha: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    @property
    def N_g(self) -> int:
        return int(round(1.0 / (1.0 - self.beta1)))

    @property
    def N_s(self) -> int:
        return int(round(1.0 / (1.0 - self.beta2)))


def adam_form_step(form: str, w, m, v, t: int, g, p: AdamParams, charitable: bool = False):
    """One step number t (1, 2, ...) of the Adam ``form`` (see the module docstring); returns (w, m, v)."""
    b1, b2, a, eps = p.beta1, p.beta2, p.alpha, p.eps
    if form in ("published", "uncorrected"):
        tt = float(t)
        c1 = 1.0 - b1**tt if form == "published" else 1.0
        c2 = 1.0 - b2**tt if form == "published" else 1.0
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        return w - a * (m / c1) / (np.sqrt(v / c2) + eps), m, v
    if form == "printed_000":
        w_new = w - a * m / (np.sqrt(v) + eps)
        return w_new, b1 * m + (1.0 - b1) * g, b2 * v + (1.0 - b2) * g * g
    if form == "printed_001":
        with np.errstate(divide="ignore", invalid="ignore"):
            q = m / np.sqrt(v)
        if charitable:
            q = np.where((m == 0.0) & (v == 0.0), 0.0, q)
        return w - a * q, b1 * m + (1.0 - b1) * g, b2 * v + (1.0 - b2) * g * g
    if form == "mcallester":
        k1, k2 = float(min(t, p.N_g)), float(min(t, p.N_s))
        m = (1.0 - 1.0 / k1) * m + g / k1
        v = (1.0 - 1.0 / k2) * v + g * g / k2
        return w - a * m / (np.sqrt(v) + eps), m, v
    raise SgdTheoryError(f"form: unknown Adam form {form!r}; valid: {', '.join(ADAM_FORMS)}")


def momentum_form_step(form: str, w, m, g, lr: float, beta: float):
    """Seed 000's EMA momentum, ``corrected`` (w -= lr m_(t+1)) or ``printed`` (w -= lr m_t); returns (w, m)."""
    if form == "corrected":
        m = beta * m + (1.0 - beta) * g
        return w - lr * m, m
    if form == "printed":
        return w - lr * m, beta * m + (1.0 - beta) * g
    raise SgdTheoryError(f"form: unknown momentum form {form!r}; valid: {', '.join(MOMENTUM_FORMS)}")


def adam_trajectory(form: str, h, w_star, w0, n_steps: int, p: AdamParams, charitable: bool = False) -> np.ndarray:
    """Deterministic Adam-form iterates w_0..w_T on L = sum_k h_k (w_k - w*_k)^2/2 (gradient h (w - w*))."""
    h, w_star = np.asarray(h, float), np.asarray(w_star, float)
    w = np.array(w0, dtype=float)
    m, v = np.zeros_like(w), np.zeros_like(w)
    out = np.empty((check_int(n_steps, "n_steps", 1) + 1, w.size))
    out[0] = w
    for t in range(1, n_steps + 1):
        w, m, v = adam_form_step(form, w, m, v, t, h * (w - w_star), p, charitable)
        out[t] = w
    return out


def momentum_trajectory(form: str, h, w0, n_steps: int, lr: float, beta: float) -> np.ndarray:
    """Deterministic EMA-momentum iterates on L = sum_k h_k w_k^2/2 (minimiser 0)."""
    h = np.asarray(h, float)
    w = np.array(w0, dtype=float)
    m = np.zeros_like(w)
    out = np.empty((check_int(n_steps, "n_steps", 1) + 1, w.size))
    out[0] = w
    for t in range(1, n_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            w, m = momentum_form_step(form, w, m, h * w, lr, beta)
        out[t] = w
    return out


def first_step(form: str, g, p: AdamParams):
    """The exact first step w_1 - w_0 of an Adam form at gradient g (closed forms; see the module docstring)."""
    g = np.asarray(g, float)
    if form == "published":
        return -p.alpha * g / (np.abs(g) + p.eps)
    if form == "uncorrected":
        return -p.alpha * (1 - p.beta1) * g / (np.sqrt(1 - p.beta2) * np.abs(g) + p.eps)
    if form in ("printed_000",):
        return np.zeros_like(g)
    if form == "mcallester":
        return -p.alpha * g / (np.abs(g) + p.eps)
    raise SgdTheoryError(f"form: no finite first step for {form!r} (printed_001 divides 0 by 0)")


def momentum_stability_limit(form: str, beta: float) -> float:
    """Largest eta h for which the EMA-momentum form is stable on curvature h (from ``derive``)."""
    return float(derive().momentum_limits[form].subs(derive().beta, beta))


def iteration_matrix(form: str, lr_h: float, beta: float) -> np.ndarray:
    """Linear map (w, m) -> (w', m') of the momentum form on curvature h, as a function of x = eta h (m in units of h)."""
    x, b = lr_h, beta
    if form == "corrected":
        return np.array([[1 - x * (1 - b), -x * b], [1 - b, b]])
    if form == "printed":
        return np.array([[1.0, -x], [1 - b, b]])
    raise SgdTheoryError(f"form: unknown momentum form {form!r}")


# ------------------------------------------------------------------------------------- exact moments
def adagrad_mean_step(t, lr: float, h: float, sigma: float, eps: float = 0.0) -> np.ndarray:
    """E eta_eff,t for AdaGrad started at the optimum of h e^2/2 with gradient noise sd sigma, in the
    mean-field approximation (G_t replaced by its mean; relative error O(t^(-1/2)) from its fluctuations):

        G_t = G_(t-1) + h^2 V_t + sigma^2,  a_t = eta/(sqrt(G_t) + eps),  V_(t+1) = (1 - a_t h)^2 V_t + a_t^2 sigma^2,

    V_t = E e_t^2, V_1 = 0.  For t >> (sigma/(eta h))^2 the iterate is stationary for its current step,
    V ~ a sigma^2/(2h), so G_t = sigma^2 t + sigma eta h sqrt t + ..., and the local log-log slope is
    -1/2 + c_t/(4 (1 + c_t)) with c_t = eta h/(sigma sqrt t): -> -1/2 (``derive().adagrad_slope``)."""
    t = np.asarray(t, dtype=np.int64)
    T = int(t.max())
    G, V = 0.0, 0.0
    out = np.empty(T)
    for k in range(T):
        G += h * h * V + sigma * sigma
        a = lr / (np.sqrt(G) + eps)
        V = (1.0 - a * h) ** 2 * V + a * a * sigma * sigma
        out[k] = a
    return out[t - 1]


def loglog_ls_slope(t, y) -> float:
    """Least-squares slope of log y on log t (the weights of ``stats.path_loglog_slope``)."""
    u = np.log(np.asarray(t, float))
    a = (u - u.mean()) / np.sum((u - u.mean()) ** 2)
    return float(a @ np.log(np.asarray(y, float)))


def rmsprop_mean(g: float, sigma2: float, beta: float, t) -> np.ndarray:
    """E s_t = (1 - beta^t)(g^2 + sigma^2) for s_t = beta s_(t-1) + (1 - beta) ghat_t^2, s_0 = 0, ghat = g + noise."""
    t = np.asarray(t, float)
    return (1.0 - beta**t) * (g * g + sigma2)


def sgd_grad_sq(h: float, sigma2: float, lr: float, t, e0: float = 0.0) -> np.ndarray:
    """E g_t^2 = h^2 E e_t^2 for SGD on h e^2/2 with gradient noise variance sigma^2 from e_0 (exact):
    E e_t^2 = q^t e_0^2 + lr^2 sigma^2 (1 - q^t)/(1 - q), q = (1 - lr h)^2; stationary lr h sigma^2/(2 - lr h)."""
    t = np.asarray(t, float)
    q = (1.0 - lr * h) ** 2
    return h * h * (q**t * e0 * e0 + lr * lr * sigma2 * (1.0 - q**t) / (1.0 - q))


# ------------------------------------------------------------------------------ Wilson et al. (2017)
@dataclass(frozen=True)
class WilsonData:
    """Wilson et al. Section 3.3: labels y (n,), design X (n, d) with d = 3 + 5n (unused columns stay 0)."""

    X: np.ndarray
    y: np.ndarray

    @property
    def n_pos(self) -> int:
        return int(np.count_nonzero(self.y > 0))


def wilson_design(y) -> np.ndarray:
    """x_i1 = y_i, x_i2 = x_i3 = 1, x_ij = 1 for j = 4 + 5(i-1), ..., 4 + 5(i-1) + 2(1 - y_i) (1-based j):
    one unique feature if y_i = 1, five if y_i = -1; all other entries 0."""
    y = np.asarray(y, float)
    n = y.size
    X = np.zeros((n, 3 + 5 * n))
    X[:, 0] = y
    X[:, 1:3] = 1.0
    for i in range(n):
        k = 1 if y[i] > 0 else 5
        X[i, 3 + 5 * i: 3 + 5 * i + k] = 1.0
    return X


def wilson_sample(n: int, p: float, rng: np.random.Generator) -> WilsonData:
    """n labels y_i = 1 w.p. p, else -1, conditioned on n_+ > n_- (so that no entry of X^T y vanishes)."""
    while True:
        y = np.where(rng.random(n) < p, 1.0, -1.0)
        if 2 * np.count_nonzero(y > 0) > n:
            return WilsonData(wilson_design(y), y)


def min_norm_solution(X, y) -> np.ndarray:
    """w = X^+ y = X^T (X X^T)^(-1) y (X has full row rank here): the limit of GD/SGD from 0."""
    return X.T @ np.linalg.solve(X @ X.T, y)


def adaptive_solution(X, y) -> np.ndarray:
    """Lemma 3.1: the adaptive methods' limit is proportional to u = sign(X^T y); here X u = 4y, so u/4 interpolates."""
    u = np.sign(X.T @ y)
    return u / 4.0


def test_error(w, p: float) -> float:
    """Exact test error of sign(w.x) on a fresh example (its unique features are unseen: weight 0).

    w.x = w1 y + w2 + w3: an error when y = 1 and w1 + w2 + w3 <= 0, or y = -1 and -w1 + w2 + w3 >= 0
    (a score of 0 counts as an error)."""
    s_pos = w[0] + w[1] + w[2]
    s_neg = -w[0] + w[1] + w[2]
    return float(p * (s_pos <= 0) + (1 - p) * (s_neg >= 0))


def predict_errors(w, y_test) -> int:
    """Number of fresh examples with labels y_test misclassified by sign(w.x) (score 0 counts as an error)."""
    y_test = np.asarray(y_test, float)
    score = w[0] * y_test + w[1] + w[2]
    return int(np.count_nonzero(score * y_test <= 0))


# --------------------------------------------------------------------------------------- symbolic
@dataclass
class AdaptiveDerivation:
    beta: sp.Symbol
    eff_step: sp.Expr
    eff_derivative: sp.Expr
    eff_derivative_negative: bool
    eff_limit: sp.Expr
    adagrad_slope: sp.Expr
    rmsprop_mean: sp.Expr
    sgd_stationary_grad_sq: sp.Expr
    first_step_published: sp.Expr
    first_step_uncorrected: sp.Expr
    momentum_limits: dict
    momentum_charpolys: dict
    wilson_Xu: bool

    def text(self) -> str:
        lines = [
            "D6 AdaGrad (seed 001; Duchi et al. 2011): effective step a(G) = eta/(sqrt(G) + eps)",
            f"  da/dG = {self.eff_derivative}  (< 0 for G > 0: {self.eff_derivative_negative})",
            f"  lim_(G->oo) a(G) = {self.eff_limit};  G_t ~ c t  =>  d log a / d log t -> {self.adagrad_slope}",
            "D7 RMSProp (seed 003): s_t = beta s_(t-1) + (1 - beta) ghat_t^2, s_0 = 0, E ghat^2 = g^2 + sigma^2:",
            f"  E s_t = {self.rmsprop_mean}",
            f"  SGD on h e^2/2 with noise sigma^2, stationary E g^2 = {self.sgd_stationary_grad_sq}",
            "D9 Adam (Kingma & Ba Alg. 1), first step at gradient g > 0:",
            f"  published: {self.first_step_published};  uncorrected: {self.first_step_uncorrected}",
            "E7 EMA momentum (seed 000) on curvature h, x = eta h; characteristic polynomials and stability limits:",
        ]
        for f in MOMENTUM_FORMS:
            lines.append(f"  {f}: {self.momentum_charpolys[f]} = 0;  stable iff x < {self.momentum_limits[f]}")
        lines.append(f"D11 Wilson et al. (2017): X sign(X^T y) = 4 y on a sample (n = 7): {self.wilson_Xu}")
        return "\n".join(lines)


_CACHE: dict = {}


def derive() -> AdaptiveDerivation:
    """Derive the D6/D7/D9/E7 facts symbolically (cached)."""
    if "d" in _CACHE:
        return _CACHE["d"]
    eta, eps, G, c, t = sp.symbols("eta epsilon G c t", positive=True)
    a = eta / (sp.sqrt(G) + eps)
    da = sp.simplify(sp.diff(a, G))
    neg = bool(da.is_negative)  # all symbols positive
    lim = sp.limit(a, G, sp.oo)
    at = a.subs(G, c * t)
    slope = sp.limit(sp.diff(sp.log(at), t) * t, t, sp.oo)
    beta, g, s2, h, lr = sp.symbols("beta g sigma2 h eta", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    f = sp.Function("f")
    ems = sp.simplify(sp.rsolve(f(k + 1) - beta * f(k) - (1 - beta) * (g**2 + s2), f(k), {f(0): 0}))
    e2 = sp.Symbol("e2")
    stat = sp.solve(sp.Eq(e2, (1 - lr * h) ** 2 * e2 + lr**2 * s2), e2)[0]
    grad_sq = sp.simplify(h**2 * stat)
    al, b1, b2 = sp.symbols("alpha beta1 beta2", positive=True)
    pub = sp.simplify(al * (((1 - b1) * g) / (1 - b1)) / (sp.sqrt((1 - b2) * g**2 / (1 - b2)) + eps))
    unc = sp.simplify(al * ((1 - b1) * g) / (sp.sqrt((1 - b2) * g**2) + eps))
    x, lam = sp.symbols("x lambda")
    limits, polys = {}, {}
    for form in MOMENTUM_FORMS:
        M = sp.Matrix(iteration_matrix_symbolic(form, x, beta))
        cp = sp.expand(M.charpoly(lam).as_expr())
        det, tr = M.det(), M.trace()
        # Schur stability of a 2x2 real map: |det| < 1 and |tr| < 1 + det; the boundary crossings in x > 0
        roots = [r for r in sp.solve(sp.Eq(det, 1), x) + sp.solve(sp.Eq(tr, -(1 + det)), x)]
        roots = [sp.simplify(r) for r in roots if r.free_symbols <= {beta}]
        roots = [r for r in roots if r.subs(beta, sp.Rational(1, 2)) > 0]  # x = eta h > 0 (any beta in (0, 1))
        limit = sp.Min(*roots) if len(roots) > 1 else roots[0]
        limits[form] = sp.simplify(limit)
        polys[form] = cp
    rng = np.random.default_rng(7)
    data = wilson_sample(7, 0.7, rng)
    Xu = bool(np.array_equal(data.X @ np.sign(data.X.T @ data.y), 4 * data.y))
    out = AdaptiveDerivation(beta, a, da, neg, lim, slope, ems, grad_sq, pub, unc, limits, polys, Xu)
    _CACHE["d"] = out
    return out


def iteration_matrix_symbolic(form: str, x, b):
    if form == "corrected":
        return [[1 - x * (1 - b), -x * b], [1 - b, b]]
    return [[1, -x], [1 - b, b]]


__all__ = ["ADAM_FORMS", "MOMENTUM_FORMS", "AdamParams", "adagrad_step", "rmsprop_step", "adam_form_step",
           "momentum_form_step", "adam_trajectory", "momentum_trajectory", "first_step", "rmsprop_mean", "sgd_grad_sq",
           "wilson_design", "wilson_sample", "min_norm_solution", "adaptive_solution", "test_error", "predict_errors",
           "derive", "momentum_stability_limit", "iteration_matrix", "adagrad_mean_step", "loglog_ls_slope"]
