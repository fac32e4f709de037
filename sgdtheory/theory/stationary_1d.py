"""Stationary laws of one-dimensional SGD: the Fokker--Planck (Boltzmann) density, the exact law of the
discrete chain, and the exact discrete variance on a quadratic.

Source: seed 003 (D. McAllester, TTIC 31230 SGD slides), slides "Langevin Dynamics" (time t = eta i,
d Phi = -g(Phi) dt + sqrt(eta) eps sqrt(dt), eps ~ N(0, Sigma)) and "Stationary Distributions" ("In one
dimension the stationary distribution is a Boltzman distribution").  CLAIMS.md B1.

Setting: ``problems.PolynomialFiniteSum1D`` with per-example losses L_i, L = mean_i L_i, batch size B
(with replacement) and additive Gaussian gradient noise of s.d. noise_sd = sigma0 per example.  One SGD step
is w' = w - eta g_B(w) with g_B(w) = mean_{i in batch} L_i'(w) + (sigma0 / sqrt(B)) xi, so the gradient noise
has mean 0 and variance Sigma_tot(w) / B, Sigma_tot(w) = Sigma(w) + sigma0^2, Sigma(w) = Var_i L_i'(w).

1. Langevin / Fokker--Planck (continuous time t = eta k, Ito):

       d Phi = -L'(Phi) dt + sqrt(eta Sigma_tot(Phi) / B) dW,      D(Phi) = eta Sigma_tot(Phi) / (2 B).

   The stationary Fokker--Planck equation 0 = d/dphi [ L' p + d/dphi (D p) ] with zero flux (natural
   boundaries) gives

       p(phi) ∝ (1 / D(phi)) exp( -∫^phi L'(s) / D(s) ds ),

   and for constant noise (Sigma_tot = sigma^2) the Boltzmann density p ∝ exp(-2 B L / (eta sigma^2))
   (temperature T = eta sigma^2 / (2 B)).  Why Ito: SGD evaluates the noise at the *current* iterate,
   which is the Euler--Maruyama scheme of the SDE, and Euler--Maruyama converges to the Ito solution; the
   Ito Fokker--Planck operator has D *inside* the second derivative, hence the 1/D prefactor.  A midpoint
   rule would give Stratonovich (prefactor D^(-1/2)), the "isothermal" (Haenggi--Klimontovich) rule none;
   ``symbolic_fokker_planck`` derives all three, and claim B1 uses the other two as negative controls.

2. The exact stationary law of the discrete chain (any eta below the stability limit, sigma0 > 0): the
   transition density is a finite Gaussian mixture over the multisets of batch indices,
   K(w' | w) = sum_c pi_c N(w'; w - eta mean_{i in c} L_i'(w), eta^2 sigma0^2 / B), and p solves
   p(w') = ∫ K(w' | w) p(w) dw.  ``discrete_stationary_law`` discretises the integral by composite
   Gauss--Legendre (Nystrom) and solves for the eigenvector of eigenvalue 1; the density and CDF then
   follow at any point from the Nystrom interpolant (one exact step of the chain from the nodes).

3. The quadratic L = h w^2 / 2 with constant noise: w' = (1 - eta h) w - eta sigma xi / sqrt(B) has the exact
   stationary variance v = eta sigma^2 / (B h (2 - eta h)) (SymPy: solve E w'^2 = E w^2), against the
   Langevin (Ornstein--Uhlenbeck) D / h = eta sigma^2 / (2 B h); v_L / v = 1 - eta h / 2.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.polynomial.polynomial as npoly
from scipy import integrate, special

from ..errors import SgdTheoryError, check_float, check_int
from ..problems import PolynomialFiniteSum1D

CONVENTIONS = ("ito", "stratonovich", "isothermal")
#: exponent of D in the prefactor D^(-a) of the stationary density for each convention
_PREFACTOR = {"ito": 1.0, "stratonovich": 0.5, "isothermal": 0.0}
#: the default grid covers the region where the density exceeds exp(-TAIL_NATS) of its maximum
TAIL_NATS = 60.0


# -- symbolic layer --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def symbolic_fokker_planck() -> dict:
    """SymPy derivation of the 1-D stationary Fokker--Planck density.

    With generic functions L(phi), Sigma(phi) and D = eta Sigma / (2B): the Ito probability flux
    J = -L' p - (D p)' vanishes for p = (1/D) exp(-∫ L'/D); the Stratonovich flux (drift corrected by
    +D'/2) vanishes for D^(-1/2) exp(-∫ L'/D); the isothermal flux (-L' p - D p') for exp(-∫ L'/D).  For
    Sigma = sigma^2 constant, p_Ito ∝ exp(-2 B L / (eta sigma^2)).

    Returns a dict of SymPy expressions: ``flux`` (each convention's flux at its own density, simplified:
    all zero), ``density`` (the three densities), ``constant_noise_exponent`` (log p for constant noise up
    to a constant) and the symbols.
    """
    import sympy as sp

    phi, s = sp.symbols("phi s", real=True)
    eta, sigma, B = sp.symbols("eta sigma B", positive=True)
    Lf = sp.Function("L")
    Sf = sp.Function("Sigma", positive=True)
    D = eta * Sf(phi) / (2 * B)
    Ds = eta * Sf(s) / (2 * B)
    Lp = sp.diff(Lf(phi), phi)
    Psi = sp.Integral(sp.diff(Lf(s), s) / Ds, (s, 0, phi))  # ∫_0^phi L'/D
    dens = {c: D ** (-sp.Rational(_PREFACTOR[c]).limit_denominator(2)) * sp.exp(-Psi) for c in CONVENTIONS}
    flux = {
        "ito": -Lp * dens["ito"] - sp.diff(D * dens["ito"], phi),
        "stratonovich": -(Lp - sp.diff(D, phi) / 2) * dens["stratonovich"] - sp.diff(D * dens["stratonovich"], phi),
        "isothermal": -Lp * dens["isothermal"] - D * sp.diff(dens["isothermal"], phi),
    }
    flux = {c: sp.simplify(sp.expand(f)) for c, f in flux.items()}
    # constant noise: Sigma = sigma^2
    psi_const = Psi.subs(Sf(s), sigma**2).doit()  # = 2B (L(phi) - L(0)) / (eta sigma^2)
    const_exponent = sp.simplify(-psi_const - 2 * B * Lf(0) / (eta * sigma**2))  # log p + const
    return {"flux": flux, "density": dens, "constant_noise_exponent": const_exponent,
            "symbols": (phi, eta, sigma, B, Lf, Sf)}


@lru_cache(maxsize=1)
def symbolic_quadratic_variance() -> dict:
    """SymPy: the stationary second moment of w' = (1 - eta h) w - eta sigma xi / sqrt(B) (xi ~ N(0, 1)
    independent of w) solves v = (1 - eta h)^2 v + eta^2 sigma^2 / B; the Langevin OU variance is D/h.

    Returns ``discrete`` = eta sigma^2 / (B h (2 - eta h)), ``langevin`` = eta sigma^2 / (2 B h), ``ratio`` =
    langevin / discrete (= 1 - eta h / 2), its series in eta, the stability condition and the symbols."""
    import sympy as sp

    eta, h, sigma, B = sp.symbols("eta h sigma B", positive=True)
    v = sp.symbols("v")
    sol = sp.solve(sp.Eq(v, (1 - eta * h) ** 2 * v + eta**2 * sigma**2 / B), v)
    if len(sol) != 1:
        raise SgdTheoryError("internal: the stationary second-moment equation must have one solution")
    disc = sp.factor(sol[0])
    lang = sp.factor(eta * sigma**2 / (2 * B) / h)
    ratio = sp.simplify(lang / disc)
    return {"discrete": disc, "langevin": lang, "ratio": ratio, "ratio_series": sp.series(ratio, eta, 0, 3).removeO(),
            "symbols": (eta, h, sigma, B)}


def discrete_variance(h: float, sigma: float, eta: float, batch_size: int = 1) -> float:
    """eta sigma^2 / (B h (2 - eta h)): the exact stationary variance of SGD with constant Gaussian noise on
    L = h w^2 / 2 (0 < eta < 2/h)."""
    h = check_float(h, "h", 0.0)
    eta = check_float(eta, "eta", 0.0, 2.0 / h)
    sigma = check_float(sigma, "noise_sd", 0.0)
    B = check_int(batch_size, "batch_size", 1)
    return eta * sigma**2 / (B * h * (2.0 - eta * h))


def langevin_variance(h: float, sigma: float, eta: float, batch_size: int = 1) -> float:
    """eta sigma^2 / (2 B h): the Ornstein--Uhlenbeck (Langevin / Boltzmann) stationary variance."""
    h = check_float(h, "h", 0.0)
    eta = check_float(eta, "eta", 0.0)
    sigma = check_float(sigma, "noise_sd", 0.0)
    B = check_int(batch_size, "batch_size", 1)
    return eta * sigma**2 / (2.0 * B * h)


# -- numeric helpers on a PolynomialFiniteSum1D ----------------------------------------------------------------


def _check_problem(problem) -> PolynomialFiniteSum1D:
    if not isinstance(problem, PolynomialFiniteSum1D):
        raise SgdTheoryError(f"problem: expected a PolynomialFiniteSum1D, got {type(problem).__name__}")
    return problem


def mean_gradient(problem: PolynomialFiniteSum1D, x) -> np.ndarray:
    """L'(x) on an array of points (vectorised Horner)."""
    return npoly.polyval(np.asarray(x, dtype=np.float64), npoly.polyder(problem.mean_coefficients))


def mean_loss(problem: PolynomialFiniteSum1D, x) -> np.ndarray:
    """L(x) - L(reference) on an array of points (Taylor coefficients at the reference: no cancellation)."""
    b = problem.taylor_coefficients(problem.reference).copy()
    b[0] = 0.0
    return npoly.polyval(np.asarray(x, dtype=np.float64) - problem.reference, b)


def noise_variance(problem: PolynomialFiniteSum1D, x, batch_size: int = 1) -> np.ndarray:
    """Variance of the minibatch gradient noise at x: (Sigma(x) + noise_sd^2) / B, Sigma(x) = Var_i L_i'(x)
    (population variance over the n examples; B drawn with replacement)."""
    B = check_int(batch_size, "batch_size", 1)
    x = np.asarray(x, dtype=np.float64)
    G = npoly.polyval(x, npoly.polyder(problem.coeffs.T))  # (n,) + x.shape
    return (G.var(axis=0) + problem.noise_sd**2) / B


def diffusion(problem: PolynomialFiniteSum1D, eta: float, x, batch_size: int = 1) -> np.ndarray:
    """D(x) = eta (Sigma(x) + noise_sd^2) / (2 B), the diffusion coefficient of the Langevin SDE in t = eta k."""
    return 0.5 * eta * noise_variance(problem, x, batch_size)


@dataclass(frozen=True)
class Density:
    """A normalised density and its CDF tabulated on an increasing grid (linear interpolation between)."""

    grid: np.ndarray
    pdf: np.ndarray
    cdf: np.ndarray
    label: str = ""

    def pdf_at(self, x) -> np.ndarray:
        return np.interp(x, self.grid, self.pdf, left=0.0, right=0.0)

    def cdf_at(self, x) -> np.ndarray:
        return np.interp(x, self.grid, self.cdf, left=0.0, right=1.0)

    def moment(self, k: int, center: float = 0.0) -> float:
        return float(integrate.trapezoid((self.grid - center) ** k * self.pdf, self.grid))

    def mass_above(self, x: float) -> float:
        return float(1.0 - self.cdf_at(x))


def _from_log_density(grid: np.ndarray, logp: np.ndarray, label: str) -> Density:
    logp = logp - np.max(logp)
    p = np.exp(logp)
    c = integrate.cumulative_trapezoid(p, grid, initial=0.0)
    Z = c[-1]
    if not Z > 0:
        raise SgdTheoryError("density: not normalisable on the grid")
    return Density(grid, p / Z, c / Z, label)


def _log_density(problem, eta, batch_size, grid, convention, temperature_noise=None):
    """log p up to a constant for the Fokker--Planck density (``temperature_noise``: a constant noise
    variance Sigma_tot/B replacing the state-dependent one; then log p = -2 (L - L_ref) / (eta v))."""
    if temperature_noise is not None:
        return -2.0 * mean_loss(problem, grid) / (eta * temperature_noise)
    D = diffusion(problem, eta, grid, batch_size)
    if np.any(D <= 0):
        raise SgdTheoryError("problem: the gradient-noise variance vanishes on the grid (Sigma(w) + noise_sd^2 = 0); "
                             "the Fokker-Planck density is then singular -- add noise_sd > 0")
    if np.ptp(D) <= 1e-12 * np.max(D):  # constant noise: the exact Boltzmann exponent, no quadrature
        return -mean_loss(problem, grid) / D[0]
    psi = integrate.cumulative_trapezoid(mean_gradient(problem, grid) / D, grid, initial=0.0)
    return -psi - _PREFACTOR[convention] * np.log(D)


def default_grid(problem: PolynomialFiniteSum1D, eta: float, batch_size: int = 1, n_points: int = 20001,
                 widen: float = 1.0) -> np.ndarray:
    """A uniform grid covering the region where the Fokker--Planck density exceeds exp(-TAIL_NATS) of its
    maximum (found by widening a grid around the local minima), widened by the factor ``widen``."""
    problem = _check_problem(problem)
    mins = problem.local_minima()
    lo, hi = (float(mins.min()), float(mins.max())) if mins.size else (problem.reference, problem.reference)
    half = 1.0 + 0.5 * (hi - lo)
    for _ in range(60):
        g = np.linspace(lo - half, hi + half, 4001)
        lp = _log_density(problem, eta, batch_size, g, "ito")
        lp = lp - lp.max()
        if lp[0] < -TAIL_NATS and lp[-1] < -TAIL_NATS:
            inside = np.nonzero(lp >= -TAIL_NATS)[0]
            a, b = g[max(inside[0] - 1, 0)], g[min(inside[-1] + 1, g.size - 1)]
            c, r = 0.5 * (a + b), 0.5 * (b - a) * widen
            return np.linspace(c - r, c + r, check_int(n_points, "n_points", 101))
        half *= 1.5
    raise SgdTheoryError("grid: the density does not decay within a reasonable range (is the temperature huge?)")


def fokker_planck_density(problem: PolynomialFiniteSum1D, eta: float, batch_size: int = 1, grid=None,
                          convention: str = "ito") -> Density:
    """The normalised stationary density of d Phi = -L' dt + sqrt(2 D) dW, D = eta (Sigma + noise_sd^2)/(2B),
    and its CDF, on ``grid`` (default ``default_grid``): p ∝ D^(-a) exp(-∫ L'/D) with a = 1 (Ito, SGD's
    convention), 1/2 (Stratonovich) or 0 (isothermal).  The integral is scipy's cumulative trapezoid on the
    grid (for constant noise the exact exponent -2 B L / (eta sigma^2) is used instead)."""
    problem = _check_problem(problem)
    eta = check_float(eta, "eta", 0.0)
    if convention not in CONVENTIONS:
        raise SgdTheoryError(f"convention: unknown {convention!r}; valid: {', '.join(CONVENTIONS)}")
    grid = default_grid(problem, eta, batch_size) if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
        raise SgdTheoryError("grid: expected an increasing 1-D array of at least 3 points")
    return _from_log_density(grid, _log_density(problem, eta, batch_size, grid, convention),
                             f"Fokker-Planck ({convention})")


def boltzmann_density(problem: PolynomialFiniteSum1D, eta: float, noise_variance_value: float, grid=None,
                      batch_size: int = 1) -> Density:
    """The Boltzmann density p ∝ exp(-2 L / (eta v)) for a *constant* gradient-noise variance v (= sigma^2/B),
    i.e. temperature T = eta v / 2, on ``grid``."""
    problem = _check_problem(problem)
    eta = check_float(eta, "eta", 0.0)
    v = check_float(noise_variance_value, "noise variance", 0.0)
    grid = default_grid(problem, eta, batch_size) if grid is None else np.asarray(grid, dtype=np.float64)
    return _from_log_density(grid, _log_density(problem, eta, batch_size, grid, "ito", v),
                             f"Boltzmann, T = {eta * v / 2:.4g}")


def mean_first_passage_time(problem: PolynomialFiniteSum1D, eta: float, a: float, b: float,
                            batch_size: int = 1, grid=None) -> float:
    """Mean first-passage time (in t = eta k) of the Langevin diffusion from a to b.

    For a < b (reflecting far left): T = ∫_a^b F(y) / (D(y) p(y)) dy with p the stationary density and F its
    CDF (from (D p T')' = -p); for a > b the mirror formula with 1 - F.  Divide by eta for SGD steps."""
    dens = fokker_planck_density(problem, eta, batch_size, grid)
    g = dens.grid
    D = diffusion(problem, eta, g, batch_size)
    with np.errstate(divide="ignore", over="ignore"):
        if a < b:
            f = dens.cdf / (D * dens.pdf)
            m = (g >= a) & (g <= b)
        else:
            f = (1.0 - dens.cdf) / (D * dens.pdf)
            m = (g >= b) & (g <= a)
    if np.count_nonzero(m) < 3:
        raise SgdTheoryError("first passage: a and b must lie inside the grid and be resolved by it")
    return float(integrate.trapezoid(f[m], g[m]))


def barrier_point(problem: PolynomialFiniteSum1D) -> float | None:
    """The highest local maximum of L between the leftmost and rightmost local minima (None with < 2 minima)."""
    mins = problem.local_minima()
    if mins.size < 2:
        return None
    crit = problem.critical_points()
    tops = [x for x in crit if mins[0] < x < mins[-1] and problem.curvature(x) < 0]
    if not tops:
        return None
    return float(max(tops, key=lambda x: problem.loss(x)))


# -- the exact law of the discrete chain (Nystrom) -------------------------------------------------------------


def batch_components(n: int, batch_size: int, max_components: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The multisets c of B indices drawn with replacement from n, as an (m, n) count matrix, and their
    multinomial probabilities pi_c = B! / prod(c_i!) n^-B."""
    n = check_int(n, "n", 1)
    B = check_int(batch_size, "batch_size", 1)
    m = math.comb(n + B - 1, B)
    if m > max_components:
        raise SgdTheoryError(f"batch_size: {m} distinct minibatches (n = {n}, B = {B}) exceed {max_components}; "
                             "the exact discrete law is only computed for small n and B")
    counts, probs = [], []
    for combo in itertools.combinations_with_replacement(range(n), B):
        c = np.bincount(combo, minlength=n)
        counts.append(c)
        probs.append(math.factorial(B) / math.prod(math.factorial(int(k)) for k in c) / n**B)
    return np.array(counts, dtype=np.float64), np.array(probs)


@dataclass(frozen=True)
class DiscreteLaw:
    """The exact stationary law of the SGD chain from the Nystrom solution p on Gauss--Legendre nodes.

    Evaluation is one exact step of the chain from the nodes: pdf(x) = sum_j q_j sum_c pi_c N(x; m_cj, s^2),
    q_j = w_j p(x_j), m_cj = x_j - eta g_c(x_j), s = eta noise_sd / sqrt(B)."""

    nodes: np.ndarray
    q: np.ndarray  # quadrature weight x density at the nodes (sums to 1)
    means: np.ndarray  # (components, nodes)
    probs: np.ndarray  # (components,)
    s: float
    eta: float
    leak: float  # probability that one step from the stationary law leaves the truncated domain
    label: str = "exact discrete (Nystrom)"

    def pdf_at(self, x) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        out = np.zeros(x.shape)
        for c in range(self.probs.size):
            z = (x[:, None] - self.means[c][None, :]) / self.s
            out += self.probs[c] * (np.exp(-0.5 * z * z) @ self.q) / (self.s * math.sqrt(2.0 * math.pi))
        return out

    def cdf_at(self, x) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        out = np.zeros(x.shape)
        for c in range(self.probs.size):
            out += self.probs[c] * (special.ndtr((x[:, None] - self.means[c][None, :]) / self.s) @ self.q)
        return out

    def moment(self, k: int, center: float = 0.0) -> float:
        """E (w - center)^k for k = 1, 2 exactly from the Gaussian components."""
        if k == 1:
            return float(self.probs @ ((self.means - center) @ self.q))
        if k == 2:
            return float(self.probs @ (((self.means - center) ** 2 + self.s**2) @ self.q))
        raise SgdTheoryError("moment: only k = 1, 2")

    def tabulate(self, grid) -> Density:
        grid = np.asarray(grid, dtype=np.float64)
        pdf = np.concatenate([self.pdf_at(c) for c in np.array_split(grid, max(1, grid.size // 2000))])
        cdf = np.concatenate([self.cdf_at(c) for c in np.array_split(grid, max(1, grid.size // 2000))])
        return Density(grid, pdf, cdf, self.label)


def discrete_stationary_law(problem: PolynomialFiniteSum1D, eta: float, batch_size: int = 1, *, domain=None,
                            nodes_per_panel: int = 8, panel_fraction: float = 0.8,
                            max_nodes: int = 6000) -> DiscreteLaw:
    """The stationary law of w' = w - eta g_B(w) (noise_sd > 0), by the Nystrom method.

    The kernel K(w' | w) = sum_c pi_c N(w'; w - eta g_c(w), s^2), s = eta noise_sd / sqrt(B), over the
    minibatch multisets c (``batch_components``).  Composite Gauss--Legendre with panels of local width
    panel_fraction * s / max(1, |1 - eta L''(w)|) resolves the integrand in w; the domain (default: the
    Fokker--Planck grid widened until the Nystrom density at both ends is below 1e-14 of its maximum) is
    truncated.  p solves (K - I) p = 0 with sum_j w_j p_j = 1 (one row replaced; numpy.linalg.solve).
    """
    problem = _check_problem(problem)
    eta = check_float(eta, "eta", 0.0)
    B = check_int(batch_size, "batch_size", 1)
    if not problem.noise_sd > 0:
        raise SgdTheoryError("noise_sd: the exact discrete law needs Gaussian noise (noise_sd > 0); with pure "
                             "minibatch noise the transition kernel has no density")
    counts, probs = batch_components(problem.n, B)
    dcoef = npoly.polyder(problem.coeffs.T)  # (K, n)
    s = eta * problem.noise_sd / math.sqrt(B)
    widen = 1.0
    for _ in range(16):
        if domain is None:
            g = default_grid(problem, eta, B, 2001, widen=widen)
            a, b = float(g[0]), float(g[-1])
        else:
            a, b = (float(domain[0]), float(domain[1]))
        # panels of local width panel_fraction * s / max(1, |1 - eta L''|) (the width of the integrand in w):
        # edges placed by inverting the cumulative panel count
        probe = np.linspace(a, b, 4001)
        curv = npoly.polyval(probe, npoly.polyder(problem.mean_coefficients, 2))
        dens_panels = np.maximum(1.0, np.abs(1.0 - eta * curv)) / (panel_fraction * s)
        cum = integrate.cumulative_trapezoid(dens_panels, probe, initial=0.0)
        n_panels = int(math.ceil(cum[-1]))
        if n_panels * nodes_per_panel > max_nodes:
            raise SgdTheoryError(f"eta: the Nystrom solution would need {n_panels * nodes_per_panel} nodes (limit "
                                 f"{max_nodes}); the noise per step eta * noise_sd = {eta * problem.noise_sd:.3g} is "
                                 "too small for the domain -- use a larger eta or noise_sd")
        gx, gw = np.polynomial.legendre.leggauss(nodes_per_panel)
        edges = np.interp(np.linspace(0.0, cum[-1], n_panels + 1), cum, probe)
        half = 0.5 * np.diff(edges)
        mid = 0.5 * (edges[:-1] + edges[1:])
        x = (mid[:, None] + half[:, None] * gx[None, :]).ravel()
        w = (half[:, None] * gw[None, :]).ravel()
        G = npoly.polyval(x, dcoef)  # (n, N): per-example gradients at the nodes
        means = x[None, :] - eta * (counts @ G) / B  # (m, N)
        K = np.zeros((x.size, x.size))
        for c in range(probs.size):
            z = (x[:, None] - means[c][None, :]) / s
            K += probs[c] * np.exp(-0.5 * z * z)
        K *= w[None, :] / (s * math.sqrt(2.0 * math.pi))
        A = K - np.eye(x.size)
        A[-1, :] = w
        rhs = np.zeros(x.size)
        rhs[-1] = 1.0
        p = np.linalg.solve(A, rhs)
        stay = probs @ (special.ndtr((b - means) / s) - special.ndtr((a - means) / s))
        law = DiscreteLaw(x, w * p, means, probs, s, eta, float(np.sum(w * p * (1.0 - stay))))
        ends = law.pdf_at(np.array([a, b]))
        if domain is not None or np.max(ends) <= 1e-13 * np.max(p):
            if law.leak > 1e-6:
                raise SgdTheoryError(f"eta = {eta:g}: the chain is transient here: one step from its quasi-stationary "
                                     f"law leaves the stable region with probability {law.leak:.3g} (SGD with Gaussian "
                                     "noise on a polynomial of degree > 2 escapes to infinity at large eta); use a "
                                     "smaller eta")
            if np.min(p) < -1e-8 * np.max(p):
                raise SgdTheoryError("internal: the Nystrom solution is not a density (refine the panels)")
            return law
        widen *= 1.25
    raise SgdTheoryError("domain: the discrete stationary law does not decay inside a reasonable domain")


# -- distances between laws ------------------------------------------------------------------------------------


def sup_distance(F, G, grid) -> float:
    """sup_x |F(x) - G(x)| over a fine grid for two objects with ``cdf_at``."""
    grid = np.asarray(grid, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(F.cdf_at(grid)) - np.asarray(G.cdf_at(grid)))))


def dkw_half_width(n: int, level: float) -> float:
    """Dvoretzky--Kiefer--Wolfowitz (Massart 1990) half-width: P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) =
    1 - level, i.e. eps = sqrt(log(2 / (1 - level)) / (2 n)); exact and distribution free (continuous F)."""
    n = check_int(n, "n", 1)
    level = check_float(level, "level", 0.0, 1.0)
    return math.sqrt(math.log(2.0 / (1.0 - level)) / (2.0 * n))


def kolmogorov_quantile(n: int, p_exceed: float) -> float:
    """The (1 - p_exceed) quantile of sup |F_n - F| (Kolmogorov's limiting law, scipy.special.kolmogi)."""
    return float(special.kolmogi(p_exceed)) / math.sqrt(n)


def sup_distance_samples(F_true, G_pred, grid, n: int, n_bridges: int = 20000, n_points: int = 2000,
                         seed: int = 0) -> np.ndarray:
    """Samples of D_n = sup_x |F_n(x) - G(x)| when the data come from F (n independent draws) and G is the
    prediction: by Donsker, F_n(F^-1(u)) - u ≈ B(u)/sqrt(n) with B a Brownian bridge, so
    D_n ≈ sup_u |B(u)/sqrt(n) - delta(u)|, delta(u) = G(F^-1(u)) - u (the exact CDF error as a function of the
    truth's quantile level).  Brownian bridges on ``n_points`` levels (numpy Generator seeded by ``seed``, so the
    power calculation is deterministic); ``n`` may be a list (the same bridges for every n, one row each).  With
    delta = 0 this is Kolmogorov's law (tested)."""
    grid = np.asarray(grid, dtype=np.float64)
    u_x = np.clip(np.asarray(F_true.cdf_at(grid), dtype=np.float64), 0.0, 1.0)
    d_x = np.asarray(G_pred.cdf_at(grid), dtype=np.float64) - u_x
    u_x, idx = np.unique(np.maximum.accumulate(u_x), return_index=True)
    d_x = d_x[idx]
    u = np.linspace(0.0, 1.0, n_points + 1)[1:-1]
    delta = np.interp(u, u_x, d_x)
    # the sup of |delta| may sit between levels: include it exactly for the drift part
    rng = np.random.default_rng(seed)
    du = np.diff(np.concatenate([[0.0], u, [1.0]]))
    ns = np.atleast_1d(np.asarray(n, dtype=np.float64))
    out = np.empty((ns.size, n_bridges))
    chunk = 1000
    sd = np.sqrt(du)
    # the same floating-point operations in the same order as the plain expressions
    #   W = cumsum(normals * sd); B = W[:, :-1] - u W[:, -1:]; D = max |B / sqrt(n) - delta|
    # evaluated into buffers allocated once (bitwise the same samples; no fresh 16 MB temporaries per chunk)
    Z = np.empty((chunk, du.size))
    W = np.empty((chunk, du.size))
    B = np.empty((chunk, u.size))
    T = np.empty((chunk, u.size))
    for start in range(0, n_bridges, chunk):
        k = min(chunk, n_bridges - start)
        z, w, b, tmp = Z[:k], W[:k], B[:k], T[:k]
        rng.standard_normal(out=z)
        np.multiply(z, sd, out=z)
        np.cumsum(z, axis=1, out=w)
        np.multiply(u[None, :], w[:, -1:], out=b)
        np.subtract(w[:, :-1], b, out=b)
        for j, nj in enumerate(ns):
            np.divide(b, math.sqrt(nj), out=tmp)
            np.subtract(tmp, delta[None, :], out=tmp)
            np.abs(tmp, out=tmp)
            np.max(tmp, axis=1, out=out[j, start:start + k])
    return out[0] if np.ndim(n) == 0 else out


__all__ = ["symbolic_fokker_planck", "symbolic_quadratic_variance", "discrete_variance", "langevin_variance",
           "fokker_planck_density", "boltzmann_density", "default_grid", "discrete_stationary_law", "DiscreteLaw",
           "Density", "noise_variance", "diffusion", "mean_first_passage_time", "barrier_point", "sup_distance",
           "dkw_half_width", "kolmogorov_quantile", "batch_components", "sup_distance_samples", "CONVENTIONS"]
