"""Estimates with honest intervals, weighted fits, and verdicts.

Dependence is handled by construction: an interval is computed either from independent replicas
(one number per independent path) or from batch means of one path (consecutive batches long
compared with the autocorrelation time are nearly independent; Flegal & Jones 2010).  Both use
Student-t quantiles from scipy.  Every ``Estimate`` carries the degrees of freedom of its interval
(``dof``; infinity for a normal interval), so its standard error is recovered exactly.  Fits are
weighted least squares (closed form) and *use* their chi^2: when the model is rejected at the
interval's own level (lack of fit, p < 1 - level) the parameter covariance is inflated by the
Birge ratio chi^2/dof and the interval takes the Student-t quantile on the residual degrees of
freedom (Birge 1932; the Particle Data Group's scale factor), so a misspecified model widens the
interval instead of giving a narrow one around a biased slope.

Verdicts (CLAIMS.md, "What verified means"): a prediction is *verified* when it lies inside the
interval and the interval's half-width is at most the check's stated resolution; *rejected* when
it lies outside; *inconclusive* otherwise (the experiment lacked the power to decide).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import special

from .errors import SgdTheoryError

VERIFIED = "verified"
REJECTED = "rejected"
INCONCLUSIVE = "inconclusive"
DIVERGED = "diverged"

DEFAULT_LEVEL = 0.9999


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval [low, high] at ``level``."""

    value: float
    low: float
    high: float
    level: float
    method: str
    n: int
    dof: float | None = None  # degrees of freedom of the interval's quantile; None: n - 1; inf: normal

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)

    @property
    def degrees_of_freedom(self) -> float:
        return float(max(self.n - 1, 1)) if self.dof is None else float(self.dof)

    @property
    def quantile(self) -> float:
        """The quantile q with half_width = q * standard_error (Student t, or normal for dof = inf)."""
        if self.level >= 1.0:
            return 1.0
        d = self.degrees_of_freedom
        return _normal_quantile(self.level) if not np.isfinite(d) else _t_quantile(self.level, d)

    @property
    def standard_error(self) -> float:
        return self.half_width / self.quantile

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def to_dict(self) -> dict:
        return {k: float(v) if isinstance(v, (float, np.floating)) else v for k, v in asdict(self).items()}

    def __str__(self) -> str:
        return f"{self.value:.6g} [{self.low:.6g}, {self.high:.6g}] ({100 * self.level:g}%, {self.method})"


def _t_quantile(level: float, dof: float) -> float:
    """Two-sided Student-t quantile t_{(1+level)/2, dof} (scipy.special.stdtrit; scipy.stats is slow to import)."""
    return float(special.stdtrit(dof, 0.5 + 0.5 * level))


def _normal_quantile(level: float) -> float:
    return float(special.ndtri(0.5 + 0.5 * level))


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise SgdTheoryError(f"level = {level} is out of range: valid range is (0, 1)")
    return float(level)


def replica_interval(samples, level: float = DEFAULT_LEVEL, method: str = "independent replicas") -> Estimate:
    """Mean of independent replicas with a Student-t interval (n - 1 degrees of freedom)."""
    level = _check_level(level)
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise SgdTheoryError(f"samples: need at least 2 independent replicas, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise SgdTheoryError("samples: contain NaN or inf (a diverged run must be reported as diverged)")
    m = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(x.size))
    h = _t_quantile(level, x.size - 1) * se
    return Estimate(m, m - h, m + h, level, method, int(x.size), float(x.size - 1))


def batch_means_interval(batch_means, level: float = DEFAULT_LEVEL) -> Estimate:
    """Time average of one path from its consecutive batch means, with a batch-means t-interval."""
    return replica_interval(batch_means, level, method="batch means")


def difference(a: Estimate, b: Estimate, scale_a: float = 1.0, scale_b: float = 1.0,
               level: float | None = None) -> Estimate:
    """scale_a * a - scale_b * b for independent estimates (Welch-Satterthwaite degrees of freedom)."""
    level = a.level if level is None else _check_level(level)
    va = (scale_a * a.standard_error) ** 2
    vb = (scale_b * b.standard_error) ** 2
    dof = (va + vb) ** 2 / (va**2 / max(a.n - 1, 1) + vb**2 / max(b.n - 1, 1)) if va + vb > 0 else 1.0
    m = scale_a * a.value - scale_b * b.value
    h = _t_quantile(level, dof) * np.sqrt(va + vb)
    return Estimate(m, m - h, m + h, level, "difference of independent estimates", int(min(a.n, b.n)), float(dof))


@dataclass(frozen=True)
class LinearFit:
    """Weighted least-squares fit y = intercept + slope * x with intervals and goodness of fit."""

    intercept: Estimate
    slope: Estimate
    chi2: float
    dof: int

    @property
    def p_value(self) -> float:
        """Probability of a chi^2 at least this large if the linear model is right."""
        return float(special.chdtrc(self.dof, self.chi2)) if self.dof > 0 else float("nan")


def weighted_least_squares(X, y, se, level: float = DEFAULT_LEVEL, dof_each: int | None = None):
    """Fit y = X beta with weights 1/se^2 (se: standard errors of independent y_k).

    Returns ``(estimates, chi2, dof)``: one ``Estimate`` per column of X.  The parameter
    covariance is (X^T W X)^{-1} (known errors); intervals use the normal quantile when
    ``dof_each`` is None, else Student t with ``dof_each`` degrees of freedom, since each se_k was
    itself estimated from dof_each + 1 replicas.

    Lack of fit is not ignored: when chi^2 on m - p degrees of freedom has p-value below 1 - level
    (the model is rejected at the interval's own level), the covariance is multiplied by the Birge
    ratio chi^2/(m - p) and the quantile is Student t on m - p degrees of freedom; the estimate's
    ``method`` says so.  With m = p there is no test of fit and the known-error interval stands.
    """
    level = _check_level(level)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or se.shape != y.shape or X.shape[0] < X.shape[1]:
        raise SgdTheoryError(f"fit: need a design matrix (m, p) with m >= p and y, se of length m; got X {X.shape}, y {y.shape}")
    if np.any(se <= 0) or not np.all(np.isfinite(np.concatenate([X.ravel(), y, se]))):
        raise SgdTheoryError("fit: se must be positive and all values finite")
    W = 1.0 / se**2
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    beta = cov @ (X.T @ (W * y))
    chi2 = float(np.sum(W * (y - X @ beta) ** 2))
    n = int(y.size)
    resid_dof = n - X.shape[1]
    q_dof = np.inf if dof_each is None else float(dof_each)
    method = "weighted least squares"
    if resid_dof > 0 and float(special.chdtrc(resid_dof, chi2)) < 1.0 - level:
        cov = cov * (chi2 / resid_dof)
        q_dof = float(resid_dof)
        method = (f"weighted least squares; lack of fit (chi2 = {chi2:.3g} on {resid_dof} dof, p < {1 - level:.2g}): "
                  "interval inflated by the Birge ratio, t on the residual dof")
    q = _normal_quantile(level) if not np.isfinite(q_dof) else _t_quantile(level, q_dof)
    ests = [Estimate(float(beta[k]), float(beta[k] - q * np.sqrt(cov[k, k])),
                     float(beta[k] + q * np.sqrt(cov[k, k])), level, method, n, q_dof)
            for k in range(X.shape[1])]
    return ests, chi2, resid_dof


def weighted_linear_fit(x, y, se, level: float = DEFAULT_LEVEL, dof_each: int | None = None) -> LinearFit:
    """Fit y_k = a + b x_k with weights 1/se_k^2 (see ``weighted_least_squares``)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise SgdTheoryError("fit: x, y and se must be 1-D arrays of the same length >= 2")
    ests, chi2, dof = weighted_least_squares(np.column_stack([np.ones_like(x), x]), y, se, level, dof_each)
    return LinearFit(ests[0], ests[1], chi2, dof)


def loglog_slope(x, y, se, level: float = DEFAULT_LEVEL, dof_each: int | None = None) -> LinearFit:
    """Fit log y = a + p log x (the delta method gives se(log y) = se/y); requires y > 0."""
    y = np.asarray(y, dtype=np.float64)
    if np.any(y <= 0):
        raise SgdTheoryError("loglog fit: all y must be positive")
    return weighted_linear_fit(np.log(x), np.log(y), np.asarray(se) / y, level, dof_each)


def path_loglog_slope(x, Y, level: float = DEFAULT_LEVEL) -> Estimate:
    """Least-squares slope of log(mean_p Y[p, k]) on log x_k, for observables Y[p, k] > 0 recorded at
    times x_k along the *same* independent paths p (so the points are correlated in k).

    The slope is s = sum_k a_k log(ybar_k) with a_k = (u_k - ubar) / sum_j (u_j - ubar)^2, u = log x.
    Its interval is honest about the dependence between records: by the delta method s is, to first
    order, the mean over paths of the influence values v_p = sum_k a_k Y[p, k] / ybar_k (plus a
    constant), and the paths are independent replicas, so the standard error is std(v)/sqrt(P) with
    a Student-t quantile on P - 1 degrees of freedom.  The across-record covariance enters through v.
    """
    level = _check_level(level)
    x = np.asarray(x, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or Y.ndim != 2 or Y.shape[1] != x.size or Y.shape[0] < 2:
        raise SgdTheoryError(f"path slope: need x (k >= 2,) and Y (paths >= 2, k); got x {x.shape}, Y {Y.shape}")
    if np.any(x <= 0) or not np.all(np.isfinite(Y)):
        raise SgdTheoryError("path slope: x must be positive and Y finite (a diverged run must be reported as diverged)")
    ybar = Y.mean(axis=0)
    if np.any(ybar <= 0):
        raise SgdTheoryError("path slope: the mean of Y must be positive at every record")
    u = np.log(x)
    a = (u - u.mean()) / np.sum((u - u.mean()) ** 2)
    slope = float(a @ np.log(ybar))
    v = Y @ (a / ybar)
    h = _t_quantile(level, Y.shape[0] - 1) * float(v.std(ddof=1)) / np.sqrt(Y.shape[0])
    return Estimate(slope, slope - h, slope + h, level, "log-log slope, delta method over independent paths",
                    int(Y.shape[0]), float(Y.shape[0] - 1))


def two_point_loglog_slope(x1: float, a: Estimate, x2: float, b: Estimate, level: float | None = None) -> Estimate:
    """log(a/b)/log(x1/x2) for independent positive estimates a (at x1) and b (at x2), delta method.

    se = sqrt((se_a/a)^2 + (se_b/b)^2)/|log(x1/x2)|, Student t on min(n_a, n_b) - 1 degrees of freedom.
    """
    level = a.level if level is None else _check_level(level)
    if a.value <= 0 or b.value <= 0 or x1 <= 0 or x2 <= 0 or x1 == x2:
        raise SgdTheoryError("two-point slope: need positive estimates at two distinct positive x")
    lr = float(np.log(x1 / x2))
    val = float(np.log(a.value / b.value)) / lr
    se = float(np.hypot(a.standard_error / a.value, b.standard_error / b.value)) / abs(lr)
    n = int(min(a.n, b.n))
    dof = float(min(a.degrees_of_freedom, b.degrees_of_freedom))
    h = (_normal_quantile(level) if not np.isfinite(dof) else _t_quantile(level, dof)) * se
    return Estimate(val, val - h, val + h, level, "two-point log-log slope of independent estimates (delta method)", n, dof)


def proportion_interval(successes: int, trials: int, level: float = DEFAULT_LEVEL,
                        method: str = "Clopper-Pearson (exact binomial)") -> Estimate:
    """A probability estimated from ``successes`` in ``trials`` independent Bernoulli replicas.

    Clopper-Pearson interval from the beta quantiles (scipy.special.betaincinv): exact coverage at
    least ``level``, and honest at 0 or ``trials`` successes, where a normal interval has zero width.
    """
    level = _check_level(level)
    k, n = int(successes), int(trials)
    if n < 1 or not 0 <= k <= n:
        raise SgdTheoryError(f"proportion: need 0 <= successes <= trials and trials >= 1; got {k} of {n}")
    alpha = 1.0 - level
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha / 2))
    return Estimate(k / n, low, high, level, method, n, np.inf)


def exact(value: float, method: str, abs_tol: float = 0.0) -> Estimate:
    """A value computed exactly (SymPy, enumeration): a zero-width interval up to rounding.

    The interval is value +- max(1e-10 |value|, abs_tol); its level is 1 (no sampling error).
    """
    tol = max(1e-10 * abs(value), abs_tol)
    return Estimate(float(value), float(value) - tol, float(value) + tol, 1.0, method, 0, np.inf)


def decide(prediction: float, estimate: Estimate, resolution: float) -> str:
    """Verdict of one check: verified / rejected / inconclusive (see the module docstring)."""
    if not estimate.contains(prediction):
        return REJECTED
    return VERIFIED if estimate.half_width <= resolution else INCONCLUSIVE


def decide_upper_bound(bound: float, estimate: Estimate) -> str:
    """Verdict of "the quantity is at most ``bound``": verified when the whole interval lies below
    it, rejected when the whole interval lies above it, inconclusive otherwise."""
    if estimate.high <= bound:
        return VERIFIED
    return REJECTED if estimate.low > bound else INCONCLUSIVE


def familywise_bound(levels) -> float:
    """Bonferroni bound on the probability that any check's expected verdict fails by chance.

    ``levels`` holds, per check that can fail by chance, 1 - (its probability of failing when the
    theory is right); see ``claims.base.Check.chance_failure``."""
    return float(min(1.0, sum(1.0 - lv for lv in levels)))


def chance_inside(distance_se: float, estimate: Estimate) -> float:
    """Probability that a point ``distance_se`` standard errors from the true mean falls inside a
    fresh interval of the same shape: P(|T + d| <= q) for T ~ Student t on the estimate's dof."""
    if estimate.level >= 1.0:
        return 0.0
    q = estimate.quantile
    d = abs(float(distance_se))
    dof = estimate.degrees_of_freedom
    if not np.isfinite(dof):
        return float(special.ndtr(q - d) - special.ndtr(-q - d))
    return float(special.stdtr(dof, q - d) - special.stdtr(dof, -q - d))
