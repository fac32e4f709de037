r"""Gradient flow and its discretisations: Euler (gradient descent) and SGD with steps t/N.

Source: seed 003 (D. McAllester, TTIC 31230 SGD slides), slides "Gradient Flow" (the flow
dPhi/dt = -g(Phi) and the Euler steps Phi_{j+1} = Phi_j - (t/N) g(Phi_j) with lim_N Phi_N = Phi(t)),
"Progress Theorem for Gradient Flow" (dl/dt = -||grad l||^2 <= 0; l converges, "this does not
imply that Phi converges") and "SGD also yields Gradient Flow" (the same limit with minibatch
gradients).  Claim A6 of CLAIMS.md.  Everything here is exact (SymPy, mpmath, matrix exponentials)
or a high-precision ODE integration; nothing is fitted or sampled.

1. Euler on a quadratic, L(w) = L* + (w - w*).Hbar (w - w*)/2 (Hbar symmetric positive definite).
   The flow is Phi(t) - w* = expm(-t Hbar) delta0 and the N Euler steps of size t/N give
   (I - (t/N) Hbar)^N delta0.  For a scalar x = t lambda, with h = 1/N, SymPy expands

       (1 - x h)^(1/h) = e^(-x) (1 + c1(x) h + c2(x) h^2 + O(h^3)),  c1 = -x^2/2,  c2 = x^4/8 - x^3/3,

   so on the eigenbasis of Hbar the Euler error is e(N) = |v1/N + v2/N^2 + O(N^-3)| with
   v_k = c_k(t Hbar) expm(-t Hbar) delta0, and N e(N) -> C1 = (t^2/2) |Hbar^2 expm(-t Hbar) delta0|:
   the error is O(1/N) with exponent exactly -1.  ``euler_error`` evaluates e(N) per eigenmode in
   50-digit arithmetic (mpmath), so it is exact to float64 for every N.

2. SGD with steps t/N (minibatch gradients g_B + H_B Delta at Delta = w - w*): the exact first and
   second moments m_N, S_N come from ``theory.sgd_moments`` and

       E|w_N - Phi(t)|^2 = tr S_N - 2 m_N.(Phi(t) - w*) + |Phi(t) - w*|^2
                         = tr Cov(w_N) + |m_N - (Phi(t) - w*)|^2,

   where m_N is exactly the Euler iterate (m_{k+1} = (I - eta Hbar) m_k).  ``sgd_covariance`` runs the
   same recursion on Cov(w_N) directly (a linear map of (1, m, m m^T, Cov), matrix power), which avoids
   the cancellation tr S_N - |m_N|^2 at large N; ``sgd_mse_to_flow_cov`` = tr Cov(w_N) + e(N)^2.
   To first order in eta = t/N
   the covariance is eta V(t) (the linear-noise / Langevin approximation of slide "Langevin
   Dynamics"), with

       V' = -(Hbar V + V Hbar) + c_B Sigma(Delta(s)),  V(0) = 0,  Delta(s) = expm(-s Hbar) delta0,
       Sigma(Delta) = Cov_i(g_i + H_i Delta) = Sigma0 + C(Delta) + C(Delta)^T + mean_i H_i Delta Delta^T H_i
                      - Hbar Delta Delta^T Hbar,   C(Delta) = mean_i (H_i Delta) g_i^T,

   (c_B = 1/B with replacement, (n - B)/(B(n - 1)) without), so N E|w_N - Phi(t)|^2 -> t tr V(t)
   and the RMS error is O(N^(-1/2)) with exponent exactly -1/2; the Euler bias contributes only
   O(N^-2).  (Delta, Delta Delta^T, V) obey a linear constant-coefficient ODE, so V(t) is one matrix
   exponential (``linear_noise_covariance``).  Freezing the noise at its value at the minimum,
   Sigma(Delta) = Sigma0 (a Langevin model with constant Sigma), gives the negative control.

3. The progress identity: along Phi' = -grad l, d l(Phi(t))/dt = grad l . Phi' = -|grad l|^2 (chain
   rule, ``progress_identity`` does it in SymPy for a concrete non-quadratic l); integrated,
   l(Phi(T)) - l(Phi(0)) = -int_0^T |grad l(Phi(s))|^2 ds (``progress_integrals``: the flow by
   scipy's DOP853 at rtol 1e-12, the integral by Gauss-Legendre quadrature on each step of the
   dense output).

4. l converges but Phi does not: l(Phi) = e^(-Phi) in one dimension, Phi' = e^(-Phi), so SymPy's dsolve
   gives Phi(t) = log(t + e^(Phi0)) -> infinity while l(Phi(t)) = 1/(t + e^(Phi0)) -> 0
   (``exponential_flow``).  Euler's global error obeys E' = f'(Phi(t)) E - Phi''(t)/2, E(0) = 0
   (f(Phi) = e^(-Phi)), so N (Phi_N - Phi(t)) -> t E(t) = t log((t + u0)/u0) / (2 (t + u0)) with
   u0 = e^(Phi0) (SymPy dsolve).

``richardson`` turns a sequence q(N) = q_inf + a/N + O(N^-2) into q_inf +- an error bound: the value
2 q(2N) - q(N) (error O(N^-2)) and the bound |q(2N) - q(N)| (the size of the O(1/N) term at 2N,
larger than the remaining error once N is in the asymptotic range) plus the change of the
extrapolated value between (N/2, N) and (N, 2N).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..errors import SgdTheoryError
from ..schedules import Constant
from .quadratic_basin import QuadraticBasin
from .sgd_moments import SGDMoments

MP_DPS = 50  # decimal digits of the mpmath evaluation of the Euler error


# ---------------------------------------------------------------------------------------------
# helpers


def richardson(q_n: float, q_2n: float, q_half: float | None = None) -> tuple[float, float]:
    """The limit of q(N) = q_inf + a/N + b/N^2 + ... from q(N), q(2N) (and optionally q(N/2)).

    Returns (value, bound): value = 2 q(2N) - q(N) (error -b/(2N^2) + ...); bound = |q(2N) - q(N)|
    (the O(1/N) term at 2N, which exceeds the remaining error once N >> |b/a|) plus, when q(N/2) is
    given, the change of the extrapolated value from (N/2, N) to (N, 2N) (which measures b/N^2
    directly), plus 1e-13 |value| for rounding.
    """
    value = 2.0 * q_2n - q_n
    bound = abs(q_2n - q_n) + 1e-13 * abs(value)
    if q_half is not None:
        bound += abs((2.0 * q_n - q_half) - value)
    return float(value), float(bound)


def _check_quadratic_inputs(H, delta0, t):
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max()):
        raise SgdTheoryError(f"Hbar: expected a symmetric square matrix, got shape {H.shape}")
    lam = np.linalg.eigvalsh(H)
    if lam[0] <= 0:
        raise SgdTheoryError(f"Hbar: must be positive definite; its smallest eigenvalue is {lam[0]:.6g}")
    delta0 = np.asarray(delta0, dtype=np.float64)
    if delta0.shape != (H.shape[0],) or not np.all(np.isfinite(delta0)):
        raise SgdTheoryError(f"delta0: expected a finite vector of shape ({H.shape[0]},)")
    if not (isinstance(t, (int, float, np.floating)) and math.isfinite(t) and t > 0):
        raise SgdTheoryError(f"t = {t!r}: the flow time must be a finite number > 0")
    return H, delta0, float(t)


# ---------------------------------------------------------------------------------------------
# 1. Euler on a quadratic


@functools.lru_cache(maxsize=None)
def euler_series_coefficients():
    """SymPy: (c1(x), c2(x)) with (1 - x h)^(1/h) = e^(-x) (1 + c1 h + c2 h^2 + O(h^3)), h = 1/N."""
    import sympy

    h, x = sympy.symbols("h x", positive=True)
    series = sympy.series(sympy.exp(sympy.log(1 - x * h) / h + x), h, 0, 3).removeO()
    poly = sympy.Poly(sympy.expand(series), h)
    c1, c2 = poly.coeff_monomial(h), poly.coeff_monomial(h**2)
    if poly.coeff_monomial(1) != 1:
        raise AssertionError("series of (1 - x h)^(1/h) e^x must start at 1")
    return x, c1, c2


def flow_deviation(H, delta0, t) -> np.ndarray:
    """Phi(t) - w* = expm(-t Hbar) delta0, the gradient flow of a quadratic from w* + delta0."""
    H, delta0, t = _check_quadratic_inputs(H, delta0, t)
    return scipy.linalg.expm(-t * H) @ delta0


def euler_iterate(H, delta0, t, N) -> np.ndarray:
    """(I - (t/N) Hbar)^N delta0: N gradient-descent (Euler) steps of size t/N, float64."""
    H, delta0, t = _check_quadratic_inputs(H, delta0, t)
    return np.linalg.matrix_power(np.eye(H.shape[0]) - (t / N) * H, int(N)) @ delta0


@dataclass(frozen=True)
class EulerExpansion:
    """e(N) = |v1/N + v2/N^2 + O(N^-3)|; C1 = |v1| (the limit of N e(N)); kappa = v1.v2/|v1|^2
    (so N e(N) = C1 (1 + kappa/N + O(N^-2)) and the local log-log slope is -1 - kappa/N + O(N^-2))."""

    C1: float
    v1: np.ndarray
    v2: np.ndarray

    @property
    def kappa(self) -> float:
        return float(self.v1 @ self.v2 / (self.v1 @ self.v1))


def euler_expansion(H, delta0, t) -> EulerExpansion:
    """The SymPy series coefficients applied to t Hbar on its eigenbasis (see the module docstring)."""
    import sympy

    H, delta0, t = _check_quadratic_inputs(H, delta0, t)
    x, c1, c2 = euler_series_coefficients()
    f1 = sympy.lambdify(x, c1 * sympy.exp(-x), "numpy")
    f2 = sympy.lambdify(x, c2 * sympy.exp(-x), "numpy")
    lam, U = np.linalg.eigh(H)
    coords = U.T @ delta0
    v1 = U @ (f1(t * lam) * coords)
    v2 = U @ (f2(t * lam) * coords)
    return EulerExpansion(float(np.linalg.norm(v1)), v1, v2)


def euler_error(H, delta0, t, N) -> float:
    """e(N) = |(I - (t/N) Hbar)^N delta0 - expm(-t Hbar) delta0|, exact: per eigenmode of Hbar
    (mpmath.eigsy at MP_DPS digits) ((1 - t lambda/N)^N - e^(-t lambda)) times the mode's coordinate."""
    import mpmath

    H, delta0, t = _check_quadratic_inputs(H, delta0, t)
    N = int(N)
    if N < 1:
        raise SgdTheoryError(f"N = {N}: the number of Euler steps must be >= 1")
    with mpmath.workdps(MP_DPS):
        lam, U = mpmath.eigsy(mpmath.matrix(H.tolist()))
        d = H.shape[0]
        tt = mpmath.mpf(t)
        coords = [sum(U[a, k] * mpmath.mpf(delta0[a]) for a in range(d)) for k in range(d)]
        diff = [(mpmath.power(1 - tt * lam[k] / N, N) - mpmath.exp(-tt * lam[k])) * coords[k] for k in range(d)]
        vec = [sum(U[a, k] * diff[k] for k in range(d)) for a in range(d)]
        return float(mpmath.sqrt(sum(v * v for v in vec)))


# ---------------------------------------------------------------------------------------------
# 2. SGD with steps t/N


def sgd_mse_to_flow(basin: QuadraticBasin, delta0, t, N) -> float:
    """Exact E|w_N - Phi(t)|^2 for N SGD steps of size t/N from w* + delta0 (moment recursion)."""
    phi = flow_deviation(basin.mean_hessian, delta0, t)
    path = SGDMoments(basin).run(Constant(t / N), delta0, [int(N)])
    m, S = path.mean[0], path.second[0]
    return float(np.trace(S) - 2.0 * m @ phi + phi @ phi)


def sgd_mse_curve(basin: QuadraticBasin, delta0, t, Ns) -> np.ndarray:
    """``sgd_mse_to_flow`` at each N of ``Ns``."""
    return np.array([sgd_mse_to_flow(basin, delta0, t, N) for N in Ns])


def _moment_pieces(basin: QuadraticBasin):
    """Q, QT (vec C(m) = Q m, vec C(m)^T = QT m, C(m) = mean_i (H_i m) g_i^T) and
    Mi = mean_i H_i (x) H_i (vec mean_i H_i X H_i = Mi vec X), row-major vec."""
    d, n, G, Hs = basin.d, basin.n, basin.G, basin.H
    Q = np.einsum("iak,ib->abk", Hs, G).reshape(d * d, d) / n
    QT = np.einsum("iak,ib->bak", Hs, G).reshape(d * d, d) / n
    Mi = np.einsum("iab,icd->acbd", Hs, Hs).reshape(d * d, d * d) / n
    return Q, QT, Mi


def sgd_covariance(basin: QuadraticBasin, delta0, t, N) -> np.ndarray:
    """Cov(w_N) after N SGD steps of size eta = t/N from w* + delta0, exactly, in covariance form.

    With Delta_{k+1} = A Delta_k - eta xi_k, A = I - eta Hbar, xi_k = g_B + (H_B - Hbar) Delta_k
    (conditionally mean zero), the covariance C, the mean m and P = m m^T obey

        m' = A m,  P' = A P A^T,
        C' = A C A^T + eta^2 c_B (Sigma0 + C(m) + C(m)^T + mean_i H_i S H_i - Hbar S Hbar),  S = C + P,

    a linear map of z = (1, m, vec P, vec C); z_N = T^N z_0 by repeated squaring.  Unlike the raw
    second moment S_N of ``sgd_moments`` (whose tr S_N - |m_N|^2 cancels to ~eta when |delta0| ~ 1),
    C_N is computed directly, so its relative rounding does not grow with N.  The same recursion
    as ``SGDMoments`` (tests compare them)."""
    Hbar = basin.mean_hessian
    _, delta0, t = _check_quadratic_inputs(Hbar, delta0, t)
    N = int(N)
    if N < 1:
        raise SgdTheoryError(f"N = {N}: the number of SGD steps must be >= 1")
    d, c, eta = basin.d, basin.batch_factor, t / N
    Q, QT, Mi = _moment_pieces(basin)
    A = np.eye(d) - eta * Hbar
    AA = np.kron(A, A)
    noise = eta**2 * c * (Mi - np.kron(Hbar, Hbar))
    k = 1 + d + 2 * d * d
    i_m, i_p, i_c = slice(1, 1 + d), slice(1 + d, 1 + d + d * d), slice(1 + d + d * d, k)
    T = np.zeros((k, k))
    T[0, 0] = 1.0
    T[i_m, i_m] = A
    T[i_p, i_p] = AA
    T[i_c, i_c] = AA + noise
    T[i_c, i_p] = noise
    T[i_c, i_m] = eta**2 * c * (Q + QT)
    T[i_c, 0] = eta**2 * c * basin.gradient_second_moment.reshape(-1)
    z0 = np.concatenate([[1.0], delta0, np.outer(delta0, delta0).reshape(-1), np.zeros(d * d)])
    C = (np.linalg.matrix_power(T, N) @ z0)[i_c].reshape(d, d)
    return 0.5 * (C + C.T)


def sgd_mse_to_flow_cov(basin: QuadraticBasin, delta0, t, N) -> float:
    """E|w_N - Phi(t)|^2 = tr Cov(w_N) + e(N)^2 (``sgd_covariance`` and the exact Euler error): the
    same value as ``sgd_mse_to_flow`` without its cancellation; used at large N."""
    return float(np.trace(sgd_covariance(basin, delta0, t, N)) + euler_error(basin.mean_hessian, delta0, t, N) ** 2)


def linear_noise_covariance(basin: QuadraticBasin, delta0, t, frozen: bool = False) -> np.ndarray:
    """V(t) of the module docstring (item 2) by one matrix exponential of the linear ODE for
    z = (1, Delta, vec Delta Delta^T, vec V) (row-major vec).  ``frozen=True``: Sigma(Delta) = Sigma0
    (the noise covariance at the minimum for all s; the negative control)."""
    Hbar = basin.mean_hessian
    _, delta0, t = _check_quadratic_inputs(Hbar, delta0, t)
    d, c = basin.d, basin.batch_factor
    eye = np.eye(d)
    K = np.kron(Hbar, eye) + np.kron(eye, Hbar)
    Q, QT, Mi = _moment_pieces(basin)
    sigma0 = basin.gradient_second_moment.reshape(-1)
    k = 1 + d + 2 * d * d
    A = np.zeros((k, k))
    i_delta, i_x, i_v = slice(1, 1 + d), slice(1 + d, 1 + d + d * d), slice(1 + d + d * d, k)
    A[i_delta, i_delta] = -Hbar
    A[i_x, i_x] = -K
    A[i_v, i_v] = -K
    A[i_v, 0] = c * sigma0
    if not frozen:
        A[i_v, i_delta] = c * (Q + QT)
        A[i_v, i_x] = c * (Mi - np.kron(Hbar, Hbar))
    z0 = np.concatenate([[1.0], delta0, np.outer(delta0, delta0).reshape(-1), np.zeros(d * d)])
    z = scipy.linalg.expm(t * A) @ z0
    V = z[i_v].reshape(d, d)
    return 0.5 * (V + V.T)


def sgd_mse_limit(basin: QuadraticBasin, delta0, t, frozen: bool = False) -> float:
    """lim_N N E|w_N - Phi(t)|^2 = t tr V(t) (``frozen``: with the noise frozen at Sigma0)."""
    return float(t * np.trace(linear_noise_covariance(basin, delta0, t, frozen)))


# ---------------------------------------------------------------------------------------------
# 3. the progress identity on a non-quadratic loss


@functools.lru_cache(maxsize=None)
def progress_identity():
    """SymPy, for l(x, y) = log(1 + x^2) + (y - x^2)^2/2: d l(X(t), Y(t))/dt along X' = -l_x,
    Y' = -l_y (chain rule with the flow substituted), and the residual dl/dt + |grad l|^2 simplified.

    Returns (x, y, l, grad, dl_dt, residual): sympy symbols and expressions in x, y.
    """
    import sympy

    x, y, s = sympy.symbols("x y s", real=True)
    X, Y = sympy.Function("X")(s), sympy.Function("Y")(s)
    loss = sympy.log(1 + x**2) + (y - x**2) ** 2 / 2
    grad = [sympy.diff(loss, x), sympy.diff(loss, y)]
    on_path = loss.subs({x: X, y: Y}, simultaneous=True)
    flow = {X.diff(s): -grad[0].subs({x: X, y: Y}, simultaneous=True),
            Y.diff(s): -grad[1].subs({x: X, y: Y}, simultaneous=True)}
    dl_dt = on_path.diff(s).subs(flow).subs({X: x, Y: y}, simultaneous=True)
    residual = sympy.simplify(dl_dt + grad[0] ** 2 + grad[1] ** 2)
    return x, y, loss, grad, dl_dt, residual


#: the start and horizon of the progress example: the flow first slides slowly down the curved
#: valley y = x^2 (l falls from 2.11 to 1.2 by t = 12), then drops towards the minimum at 0 (l = 0.62 at T)
PROGRESS_START = (2.0, 5.0)
PROGRESS_T = 16.0


def _gauss_legendre_on_steps(sol, ts, func, order=20) -> np.ndarray:
    """int over each solver step [ts[k], ts[k+1]] of func(sol(s)) ds, by Gauss-Legendre with ``order``
    nodes (the dense output is a polynomial on each step, the integrand smooth)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    a, b = ts[:-1, None], ts[1:, None]
    s = 0.5 * (b - a) * nodes[None, :] + 0.5 * (a + b)
    vals = func(sol(s.ravel())).reshape(s.shape)
    return 0.5 * (b - a)[:, 0] * (vals @ weights)


def _solve_progress_flow(rtol):
    from scipy.integrate import solve_ivp

    x, y, loss, grad, dl_dt, _ = progress_identity()
    import sympy

    g = sympy.lambdify((x, y), grad, "numpy")
    return solve_ivp(lambda s, z: [-v for v in g(z[0], z[1])], (0.0, PROGRESS_T), list(PROGRESS_START),
                     method="DOP853", rtol=rtol, atol=rtol * 1e-2, dense_output=True)


@functools.lru_cache(maxsize=None)
def progress_integrals(rtol: float = 1e-12) -> dict:
    """l(Phi(T)) - l(Phi(0)) from the integrated flow, and int_0^T of the SymPy dl/dt along the flow
    (the progress identity), -|grad l| and -|grad l|^2/2 (the negative controls), plus curves for
    the figure."""
    import sympy

    x, y, loss, grad, dl_dt, _ = progress_identity()
    lf = sympy.lambdify((x, y), loss, "numpy")
    rate = sympy.lambdify((x, y), dl_dt, "numpy")
    gn = sympy.lambdify((x, y), sympy.sqrt(grad[0] ** 2 + grad[1] ** 2), "numpy")
    sol = _solve_progress_flow(rtol)
    if sol.status != 0:
        raise SgdTheoryError(f"progress flow: solve_ivp failed ({sol.message})")
    ts = sol.t
    change = float(lf(*sol.y[:, -1]) - lf(*PROGRESS_START))
    rate_steps = _gauss_legendre_on_steps(sol.sol, ts, lambda z: rate(z[0], z[1]))
    norm_steps = _gauss_legendre_on_steps(sol.sol, ts, lambda z: gn(z[0], z[1]))
    sq_steps = _gauss_legendre_on_steps(sol.sol, ts, lambda z: gn(z[0], z[1]) ** 2)
    l0 = float(lf(*PROGRESS_START))

    def cum(v):
        return np.concatenate([[0.0], np.cumsum(v)])

    return {"change": change, "dl_dt_integral": float(rate_steps.sum()),
            "minus_norm_integral": -float(norm_steps.sum()),
            "minus_half_sq_integral": -0.5 * float(sq_steps.sum()), "minus_sq_integral": -float(sq_steps.sum()),
            "n_steps": int(ts.size - 1), "l0": l0, "times": ts.tolist(), "loss": lf(sol.y[0], sol.y[1]).tolist(),
            "x": sol.y[0].tolist(), "y": sol.y[1].tolist(), "loss0_plus_cum": (l0 + cum(rate_steps)).tolist(),
            "loss0_minus_cum_norm": (l0 - cum(norm_steps)).tolist(),
            "loss0_minus_half_cum_sq": (l0 - 0.5 * cum(sq_steps)).tolist()}


# ---------------------------------------------------------------------------------------------
# 4. l(Phi) = exp(-Phi): l converges, Phi does not


@functools.lru_cache(maxsize=None)
def exponential_flow() -> dict:
    """SymPy for Phi' = e^(-Phi), Phi(0) = phi0: dsolve, checkodesol, the limits, and the Euler
    global-error ODE solution.  Returns sympy objects keyed by name (symbols t, phi0, u0)."""
    import sympy

    t = sympy.Symbol("t", nonnegative=True)
    phi0 = sympy.Symbol("phi0", real=True)
    u0 = sympy.Symbol("u0", positive=True)
    P = sympy.Function("Phi")
    ode = sympy.Eq(P(t).diff(t), sympy.exp(-P(t)))
    sol = sympy.dsolve(ode, P(t), ics={P(0): phi0})
    ok, resid = sympy.checkodesol(ode, sol)
    phi = sol.rhs
    loss = sympy.exp(-phi)
    lim_loss = sympy.limit(loss, t, sympy.oo)
    lim_phi = sympy.limit(phi, t, sympy.oo)
    lim_log = sympy.limit(phi - sympy.log(t), t, sympy.oo)
    lim_doubling = sympy.limit(phi.subs(t, 2 * t) - phi, t, sympy.oo)
    # Euler's global error: Phi_N - Phi(t) = (t/N) E(t) + O(N^-2), E' = f'(Phi) E - Phi''/2, E(0) = 0
    E = sympy.Function("E")
    Phi_u = sympy.log(t + u0)  # the solution with u0 = e^phi0
    err_ode = sympy.Eq(E(t).diff(t), -sympy.exp(-Phi_u) * E(t) - Phi_u.diff(t, 2) / 2)
    E_sol = sympy.simplify(sympy.dsolve(err_ode, E(t), ics={E(0): 0}).rhs)
    return {"t": t, "phi0": phi0, "u0": u0, "ode": ode, "phi": phi, "checkodesol": (bool(ok), resid),
            "loss": sympy.simplify(loss), "lim_loss": lim_loss, "lim_phi": lim_phi, "lim_phi_minus_log": lim_log,
            "lim_doubling": lim_doubling, "euler_error_ode": err_ode, "euler_error": E_sol}


def exponential_closed_form(t, phi0: float = 0.0) -> np.ndarray:
    """Phi(t) = log(t + e^phi0) (the SymPy solution, evaluated)."""
    return np.log(np.asarray(t, dtype=np.float64) + math.exp(phi0))


def exponential_euler(t: float, N: int, phi0: float = 0.0) -> float:
    """Phi_N after N Euler (gradient-descent) steps Phi_{k+1} = Phi_k + (t/N) e^(-Phi_k) from phi0 (float64)."""
    h = t / N
    phi = float(phi0)
    for _ in range(int(N)):
        phi += h * math.exp(-phi)
    return phi


def exponential_euler_limit(t: float, phi0: float = 0.0) -> float:
    """lim_N N (Phi_N - Phi(t)) = t E(t) with E from SymPy's dsolve of the global-error ODE."""
    import sympy

    ef = exponential_flow()
    return float((ef["t"] * ef["euler_error"]).subs({ef["t"]: t, ef["u0"]: sympy.exp(sympy.Float(phi0))}))


__all__ = ["richardson", "euler_series_coefficients", "flow_deviation", "euler_iterate", "EulerExpansion",
           "euler_expansion", "euler_error", "sgd_mse_to_flow", "sgd_mse_curve", "sgd_covariance",
           "sgd_mse_to_flow_cov", "linear_noise_covariance",
           "sgd_mse_limit", "progress_identity", "progress_integrals", "exponential_flow",
           "exponential_closed_form", "exponential_euler", "exponential_euler_limit", "PROGRESS_START", "PROGRESS_T"]
