"""Running averages and their bias corrections, exactly (seed 003, McAllester, slides "Digression on
Running Averages", "Running Averages", "A Digression on Bias Correction of Running Averages",
"Bias Correction of Running Averages"; Kingma & Ba 2015, Algorithm 1 and Section 3).

Every estimate here is linear in the sequence x_1..x_t, mu_hat_t = sum_s w_s x_s, so for iid x_s with
mean mu and variance sigma^2:  E mu_hat_t = mu sum_s w_s  and  E(mu_hat_t - mu)^2 =
sigma^2 sum_s w_s^2 + mu^2 (sum_s w_s - 1)^2.  The weights, with beta = 1 - 1/N:

* plain EMA  m_t = beta m_{t-1} + x_t/N, m_0 = 0:   w_s = beta^(t-s)/N   (note the exponent +(t-s));
  sum_s w_s = 1 - beta^t, so E m_t = (1 - (1 - 1/N)^t) mu, E m_1 = mu/N and E m_t ~ (t/N) mu for t << N;
* Adam's correction m_t/(1 - beta^t): w_s = beta^(t-s)/(N (1 - beta^t)), sum = 1 (unbiased);
* McAllester's min(N, t) form a_t = (1 - 1/min(N,t)) a_{t-1} + x_t/min(N,t): for t <= N the plain
  average of x_1..x_t (w_s = 1/t); for t > N the EMA started from a_N:
  w_s = beta^(t-N)/N (s <= N), beta^(t-s)/N (s > N); sum = 1 (unbiased).

Errata (CLAIMS.md E1, E2): the slide prints w_s = (1/N)(1 - 1/N)^(-(t-s)) (exponent -(t-s)) and
sum_{n>=0} (1 - 1/N)^(-n) = N (a divergent series); the corrected forms have exponent +(t-s) and
sum_{n>=0} (1 - 1/N)^n = N.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import SgdTheoryError, check_int

FORMS = ("ema", "min_form", "adam")


def weights(form: str, N: int, t: int) -> np.ndarray:
    """Weights w_1..w_t of x_1..x_t in the estimate ``form`` ("ema", "min_form", "adam") after t steps."""
    N = check_int(N, "N", 2)
    t = check_int(t, "t", 1)
    beta = 1.0 - 1.0 / N
    s = np.arange(1, t + 1)
    ema = beta ** (t - s) / N
    if form == "ema":
        return ema
    if form == "adam":
        return ema / (1.0 - beta**t)
    if form == "min_form":
        if t <= N:
            return np.full(t, 1.0 / t)
        return np.where(s <= N, beta ** (t - N) / N, beta ** (t - s) / N)
    raise SgdTheoryError(f"form: unknown running average {form!r}; valid: {', '.join(FORMS)}")


def printed_weights(N: int, t: int) -> np.ndarray:
    """The slide's printed weights (1/N)(1 - 1/N)^(-(t-s)) (erratum E1)."""
    s = np.arange(1, t + 1)
    return (1.0 - 1.0 / N) ** (-(t - s)) / N


def mean_factor(form: str, N: int, t: int) -> float:
    """E mu_hat_t / mu = sum_s w_s (exactly 1 - (1 - 1/N)^t for the plain EMA)."""
    if form == "ema":
        return float(-np.expm1(t * np.log1p(-1.0 / N)))
    return float(weights(form, N, t).sum())


def mse(form: str, N: int, t: int, mu: float, sigma2: float) -> float:
    """E(mu_hat_t - mu)^2 = sigma^2 sum w_s^2 + mu^2 (sum w_s - 1)^2 for iid x_s (mean mu, variance sigma^2)."""
    w = weights(form, N, t)
    return float(sigma2 * np.sum(w**2) + mu**2 * (w.sum() - 1.0) ** 2)


def mean_square_difference(N: int, t: int, sigma2: float) -> float:
    """E(a_t - m_t/(1 - beta^t))^2 = sigma^2 sum_s (w_s^min - w_s^adam)^2 (both unbiased, so no mu term)."""
    d = weights("min_form", N, t) - weights("adam", N, t)
    return float(sigma2 * np.sum(d**2))


@dataclass(frozen=True)
class RunningAverageDerivation:
    """SymPy results behind D8, E1 and E2."""

    ema_mean: sp.Expr  # E m_t / mu from the recursion (rsolve)
    unrolled_matches_corrected: bool  # the recursion's solution has weights beta^(+(t-s))/N, t = 1..6
    printed_matches: bool  # ... and not the printed beta^(-(t-s))/N
    printed_first_mismatch: sp.Expr  # printed minus true coefficient of x_1 at t = 2
    printed_series: sp.Expr  # sum_{n>=0} (1 - 1/N)^(-n), as SymPy evaluates it
    printed_series_convergent: bool
    corrected_series: sp.Expr  # sum_{n>=0} (1 - 1/N)^n for N > 1
    small_t_ratio: sp.Expr  # (E m_t / mu) / (t/N) expanded for large N: 1 - (t - 1)/(2N) + ...
    small_t_limit: sp.Expr  # lim_{N -> oo} (E m_t / mu) / (t/N) at fixed t
    min_form_unbiased: bool  # sum of the min(N, t) weights = 1 for t = 1..3N (N = 4, exact rationals)

    def text(self) -> str:
        return "\n".join([
            "Running average m_t = (1 - 1/N) m_{t-1} + x_t/N, m_0 = 0 (seed 003):",
            f"  E m_t / mu (SymPy rsolve) = {self.ema_mean}",
            f"  (E m_t/mu) / (t/N) = {self.small_t_ratio}  -> E m_t ~ (t/N) mu only for t << N",
            f"  unrolled weights = (1 - 1/N)^(+(t-s))/N (corrected E1): {self.unrolled_matches_corrected}",
            f"  unrolled weights = (1 - 1/N)^(-(t-s))/N (as printed): {self.printed_matches};"
            f" printed - true coefficient of x_1 at t = 2: {self.printed_first_mismatch}",
            f"  E2 as printed: sum_(n>=0) (1 - 1/N)^(-n) has ratio N/(N - 1) > 1; SymPy is_convergent (N = 10):"
            f" {self.printed_series_convergent}",
            f"  E2 corrected: sum_(n>=0) (1 - 1/N)^n = {self.corrected_series}",
            f"  min(N, t) form: weights sum to 1 for every t (exact, N = 4, t <= 12): {self.min_form_unbiased}",
            "  Adam: m_t/(1 - beta^t) has weights summing to 1 (unbiased); it differs from the min(N, t) form",
            "  only in how the first ~N observations are weighted.",
        ])


@functools.lru_cache(maxsize=1)  # no arguments, a frozen record of SymPy expressions: derived once per process
def derive() -> RunningAverageDerivation:
    """Derive the D8/E1/E2 facts symbolically."""
    N = sp.Symbol("N", positive=True)
    t = sp.Symbol("t", integer=True, nonnegative=True)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    f = sp.Function("f")
    beta = 1 - 1 / N
    sol = sp.rsolve(f(t + 1) - beta * f(t) - 1 / N, f(t), {f(0): 0})
    ema_mean = sp.simplify(sol)
    # unroll the recursion with symbolic x_s and compare weights
    xs = sp.symbols("x1:7")
    m = sp.Integer(0)
    corrected_ok, printed_ok = True, True
    mismatch = None
    for tt in range(1, 7):
        m = sp.expand(beta * m + xs[tt - 1] / N)
        for s in range(1, tt + 1):
            coef = m.coeff(xs[s - 1])
            corrected_ok &= sp.simplify(coef - beta ** (tt - s) / N) == 0
            printed_ok &= sp.simplify(coef - beta ** (-(tt - s)) / N) == 0
            if tt == 2 and s == 1:
                mismatch = sp.simplify(beta ** (-(tt - s)) / N - coef)
    printed = sp.Sum(beta ** (-n), (n, 0, sp.oo))
    N_gt1 = sp.Symbol("N", positive=True)
    corrected = sp.Sum((1 - 1 / N_gt1) ** n, (n, 0, sp.oo)).doit()
    corrected = sp.simplify(sp.piecewise_fold(corrected).subs(N_gt1, N))
    if isinstance(corrected, sp.Piecewise):
        corrected = corrected.args[0][0]  # the branch |1 - 1/N| < 1, i.e. N > 1/2
    eps = sp.Symbol("epsilon", positive=True)  # eps = 1/N
    ratio = sp.series((1 - (1 - eps) ** t) / (t * eps), eps, 0, 2).removeO()
    ratio = sp.simplify(sp.expand(ratio).subs(eps, 1 / N))
    limit = sp.limit((1 - (1 - eps) ** t) / (t * eps), eps, 0)
    # min(N, t) weights sum to one: exact rationals for N = 4
    Nn = 4
    a = [sp.Integer(0)] * 1
    coeffs: list[sp.Rational] = []
    ok = True
    for tt in range(1, 3 * Nn + 1):
        k = min(Nn, tt)
        coeffs = [c * (1 - sp.Rational(1, k)) for c in coeffs] + [sp.Rational(1, k)]
        ok &= sum(coeffs) == 1
    del a
    return RunningAverageDerivation(
        ema_mean=ema_mean, unrolled_matches_corrected=bool(corrected_ok), printed_matches=bool(printed_ok),
        printed_first_mismatch=mismatch, printed_series=printed.doit(), printed_series_convergent=_convergent(printed),
        corrected_series=corrected, small_t_ratio=ratio, small_t_limit=limit, min_form_unbiased=bool(ok),
    )


def _convergent(series: sp.Sum) -> bool:
    """SymPy's convergence decision for a series in N, evaluated at N = 10 (any N > 1 gives the same)."""
    N = [s for s in series.free_symbols if s.name == "N"][0]
    return bool(series.subs(N, 10).is_convergent())


def horizons(N: int, quick: bool) -> np.ndarray:
    """Recorded steps: t = 1, 2, 5, N/10, N/2, N, 2N, 5N (deduplicated, >= 1)."""
    N = check_int(N, "N", 2)
    t = np.array([1, 2, 5, N // 10, N // 2, N, 2 * N, 5 * N])
    return np.unique(t[t >= 1])
