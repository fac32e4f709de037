r"""Momentum and Nesterov's accelerated gradient: exact identities, rates and stationary errors (claims D1-D5).

Conventions (``sgdtheory.optimizers.momentum``): the engine's ``HeavyBall(mu)`` at learning rate eta is

.. math:: v_{t+1} = \mu v_t + g_t, \qquad w_{t+1} = w_t - \eta v_{t+1}, \qquad v_0 = 0,

i.e. Polyak's heavy ball :math:`w_{t+1} = w_t - \alpha g_t + \beta (w_t - w_{t-1})` with
:math:`\alpha = \eta`, :math:`\beta = \mu` (Polyak 1964), and the slide form of seed 001 ("Momentum
gradient descent": :math:`m_t = \mu m_{t-1} + \gamma\nabla L(\theta_t)`, :math:`\theta_{t+1} = \theta_t - m_t`)
with :math:`m = \eta v`, :math:`\gamma = \eta`.

D1 (seed 001, same slide): unrolling, :math:`\theta_{t+1} = \theta_t - \gamma\sum_{k=0}^{t}\mu^k\nabla L(\theta_{t-k})`
exactly for any gradient sequence (SymPy: ``derive``).

D2 (seed 000 "Momentum"; seed 003 "Momentum" and "A Reparameterization"): the EMA form
:math:`m \leftarrow \beta m + (1-\beta) g`, :math:`w \mathrel{-}= \eta m` is heavy ball with lr :math:`\eta(1-\beta)`
(:math:`m = (1-\beta) v` is preserved by one step); McAllester's :math:`v_t = (1 - 1/N) v_{t-1} + \eta\hat g_t`,
:math:`\Phi_{t+1} = \Phi_t - v_t` equals :math:`N\eta\mu_t` with
:math:`\mu_t = (1 - 1/N)\mu_{t-1} + \hat g_t/N` (again preserved by one step).

D3 (seeds 000, 001 "narrow valley"; Polyak 1964): on :math:`L = \delta^\top H\delta/2` with eigenvalues in
:math:`[\mu, L]`, :math:`\kappa = L/\mu`, the error pair :math:`(\delta_t, \delta_{t-1})` evolves by the
iteration matrix :math:`T = [[(1+\beta)I - \alpha H, -\beta I], [I, 0]]`.  Per eigenvalue :math:`\lambda` its
eigenvalues are the roots of :math:`z^2 - (1 + \beta - \alpha\lambda) z + \beta`; with Polyak's tuning
:math:`\alpha = 4/(\sqrt L + \sqrt\mu)^2`, :math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2` the
discriminant is :math:`\le 0` on :math:`[\mu, L]` (zero at both ends: a repeated root, a 2x2 Jordan
block, so the error decays like :math:`k\rho^k`), every root has modulus :math:`\sqrt\beta`, and
:math:`\rho(T) = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`.  Tuned GD (:math:`\alpha = 2/(L + \mu)`) has
:math:`\rho = (\kappa - 1)/(\kappa + 1)`.  With gradient noise :math:`\xi \sim N(0, C)` the engine's state
:math:`z = (\delta, v)` is the linear Gaussian chain :math:`z' = Az + G\xi`,
:math:`A = [[I - \eta H, -\eta\mu I], [H, \mu I]]`, :math:`G = [-\eta I; I]`, whose stationary covariance
solves the discrete Lyapunov equation :math:`S = ASA^\top + GCG^\top` (``stationary_covariance``).

D4 (Lessard, Recht & Packard 2016, "Analysis and design of optimization algorithms via integral quadratic
constraints", SIAM J. Optim. 26(1); their heavy-ball counterexample -- the section and equation numbers could
not be checked here, the search tool did not return the paper's text): the strongly convex piecewise
quadratic with :math:`\nabla f(x) = Lx` (:math:`x < 1`), :math:`\mu x + (L - \mu)` (:math:`1 \le x < 2`),
:math:`Lx - (L - \mu)` (:math:`x \ge 2`); for :math:`\mu = 1`, :math:`L = 25` this is their
:math:`25x`, :math:`x + 24`, :math:`25x - 24`.  Heavy ball with Polyak's tuning has a periodic orbit;
``lessard_cycles`` finds every periodic orbit of period <= P exactly (each affine piece assignment
gives a linear system; SymPy rationals/surds) and its stability (the product of the pieces'
companion matrices).  NAG with :math:`\alpha = 1/L`, :math:`\beta = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`.

D5 (seed 001, "Nesterov's momentum" and the quiz): the look-ahead form
:math:`m_t = \mu m_{t-1} + \gamma\nabla L(\theta_t - \mu m_{t-1})`, :math:`\theta_{t+1} = \theta_t - m_t`; in the
look-ahead variable :math:`\phi_t = \theta_t - \mu m_{t-1}` the quiz's line is
``x = x + mu * m_old - (1 + mu) * m``; PyTorch's form (the engine's ``Nesterov``) and the two-sequence
form :math:`y_t = x_t + \mu(x_t - x_{t-1})`, :math:`x_{t+1} = y_t - \gamma\nabla L(y_t)` produce the same
iterates (SymPy: ``derive``).  Rates on smooth convex problems: GD with step 1/L has
:math:`f(x_k) - f^* = O(1/k)`, NAG with :math:`\mu_k = (k - 1)/(k + 2)` has :math:`O(1/k^2)`
(Nesterov 1983; Beck & Teboulle 2009, Thm 4.4).  ``convex_spectrum`` builds a quadratic on which
GD's bound is attained in rate: log-uniform eigenvalues with equal initial components, so
:math:`f(x_k) - f^* = \tfrac12\sum_j\lambda_j x_{0j}^2(1 - \lambda_j/L)^{2k} \approx c/(4k)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

import numpy as np
import scipy.linalg
import sympy as sp

from ..errors import SgdTheoryError, check_float, check_int

# -- tunings and rates ---------------------------------------------------------------------------------------------


def polyak_tuning(mu: float, L: float) -> tuple[float, float]:
    """Polyak's heavy-ball tuning (alpha, beta) = (4/(sqrt L + sqrt mu)^2, ((sqrt L - sqrt mu)/(sqrt L + sqrt mu))^2)."""
    mu, L = _mu_L(mu, L)
    a = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    b = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
    return float(a), float(b)


def nag_tuning(mu: float, L: float) -> tuple[float, float]:
    """NAG's standard strongly convex tuning (alpha, beta) = (1/L, (sqrt kappa - 1)/(sqrt kappa + 1))."""
    mu, L = _mu_L(mu, L)
    k = np.sqrt(L / mu)
    return 1.0 / L, float((k - 1) / (k + 1))


def gd_tuning(mu: float, L: float) -> float:
    """Tuned gradient descent: alpha = 2/(L + mu)."""
    mu, L = _mu_L(mu, L)
    return 2.0 / (L + mu)


def hb_rate(kappa: float) -> float:
    """(sqrt kappa - 1)/(sqrt kappa + 1)."""
    k = np.sqrt(check_float(kappa, "kappa", 1.0, low_open=False))
    return float((k - 1) / (k + 1))


def gd_rate(kappa: float) -> float:
    """(kappa - 1)/(kappa + 1)."""
    k = check_float(kappa, "kappa", 1.0, low_open=False)
    return float((k - 1) / (k + 1))


def _mu_L(mu, L):
    mu = check_float(mu, "mu", 0.0)
    L = check_float(L, "L", mu, low_open=False)
    return mu, L


def iteration_matrix(H, alpha: float, beta: float) -> np.ndarray:
    """T = [[(1 + beta) I - alpha H, -beta I], [I, 0]] acting on (delta_t, delta_(t-1))."""
    H = np.asarray(H, dtype=np.float64)
    d = H.shape[0]
    top = np.hstack([(1 + beta) * np.eye(d) - alpha * H, -beta * np.eye(d)])
    bot = np.hstack([np.eye(d), np.zeros((d, d))])
    return np.vstack([top, bot])


def spectral_radius(M) -> float:
    """max |eigenvalue| of M by ``numpy.linalg.eigvals``: accurate to ~sqrt(eps) only at a defective
    eigenvalue; for heavy ball use ``heavy_ball_radius`` (from the roots in closed form)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(M, dtype=np.float64)))))


def _lams(H_or_lams) -> np.ndarray:
    a = np.asarray(H_or_lams, dtype=np.float64)
    if a.ndim == 2:
        return np.linalg.eigvalsh(a)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise SgdTheoryError("H: expected a symmetric matrix or a non-empty vector of finite eigenvalues")
    return a


def heavy_ball_root_moduli(lam, alpha: float, beta: float) -> tuple[float, float]:
    """Moduli (larger first) of the roots of z^2 - (1 + beta - alpha lam) z + beta, the eigenvalues of heavy
    ball's iteration matrix T on the eigen-direction lam, exact for the given doubles up to the final rounding.

    tr = 1 + beta - alpha lam and disc = tr^2 - 4 beta are formed in exact rational arithmetic
    (``fractions.Fraction`` of the doubles), so the regime is decided exactly: disc <= 0 -> both roots have
    modulus sqrt(beta) (complex pair, or a double root tr/2 with tr^2 = 4 beta); disc > 0 -> real roots
    (tr +- sqrt(disc))/2, the larger modulus (|tr| + sqrt(disc))/2 (no cancellation) and the smaller
    beta / larger (Vieta).  Unlike ``numpy.linalg.eigvals`` of T, which at a double root (Polyak's tuning,
    lam = mu or L) is off by ~sqrt(eps) ~ 1e-8, this is accurate to a few ulp.  Note that at Polyak's tuning
    the ROUNDED alpha, beta can make disc a tiny positive number (~1e-16 for mu = 1, L = 10): the rounded
    iteration then really has two real roots sqrt(beta) +- ~1e-8; ``polyak_radius`` gives the radius of the
    exact tuning.
    """
    from fractions import Fraction

    a, b, lm = (check_float(alpha, "alpha", 0.0, low_open=False), check_float(beta, "beta", 0.0, 1.0,
                low_open=False), float(lam))
    tr = 1 + Fraction(b) - Fraction(a) * Fraction(lm)
    disc = tr * tr - 4 * Fraction(b)
    if disc <= 0:
        r = float(np.sqrt(b))
        return r, r
    big = 0.5 * (abs(float(tr)) + float(np.sqrt(float(disc))))
    return big, (b / big if big > 0 else 0.0)


def heavy_ball_radius(H_or_lams, alpha: float, beta: float) -> float:
    """rho(T) for heavy ball (alpha, beta) on H (a symmetric matrix, or its eigenvalues): the largest
    ``heavy_ball_root_moduli`` over the eigenvalues of H."""
    return max(heavy_ball_root_moduli(lm, alpha, beta)[0] for lm in _lams(H_or_lams))


def polyak_radius(H_or_lams, mu: float, L: float) -> float:
    """rho(T) for heavy ball with Polyak's EXACT tuning alpha = 4/(sqrt L + sqrt mu)^2,
    beta = ((sqrt L - sqrt mu)/(sqrt L + sqrt mu))^2 of the given mu, L (doubles taken as exact rationals).

    Per eigenvalue lam (exact rational of the double) the discriminant tr^2 - 4 beta lies in
    Q(sqrt(mu L)); SymPy decides its sign exactly (0 at lam = mu and lam = L, < 0 between), and the
    larger root modulus -- sqrt(beta) = (sqrt L - sqrt mu)/(sqrt L + sqrt mu) when disc <= 0,
    (|tr| + sqrt(disc))/2 otherwise -- is evaluated with 30 significant digits, then rounded once.
    """
    from .symbolic_basin import exact_rational

    mu, L = _mu_L(mu, L)
    sm, sL = sp.sqrt(exact_rational(mu)), sp.sqrt(exact_rational(L))
    a = 4 / (sL + sm) ** 2
    b = ((sL - sm) / (sL + sm)) ** 2
    best = sp.Integer(0)
    for lm in np.unique(_lams(H_or_lams)):
        tr = sp.radsimp(1 + b - a * exact_rational(lm))
        disc = sp.expand(sp.radsimp(tr * tr - 4 * b))
        if disc == 0 or disc.is_negative:
            r = sp.sqrt(b)
        elif disc.is_positive:
            r = (sp.Abs(tr) + sp.sqrt(disc)) / 2
        else:
            raise SgdTheoryError(f"polyak_radius: SymPy could not decide the sign of the discriminant at lam = {lm!r}")
        if sp.N(r - best, 30) > 0:
            best = r
    return float(sp.N(best, 30))


def jordan_defect(H, alpha: float, beta: float, tol: float = 1e-7) -> int:
    """Size - 1 of the largest Jordan block among T's eigenvalues of maximal modulus, per eigenvalue of H:
    1 when some eigenvalue of H gives a repeated root (discriminant 0 to ``tol``: the rounded tuning splits a
    double root by ~1e-16 in disc) of modulus rho(T) (``heavy_ball_radius``), else 0."""
    lam = np.linalg.eigvalsh(np.asarray(H, dtype=np.float64))
    rho = heavy_ball_radius(lam, alpha, beta)
    for l in lam:
        tr = 1 + beta - alpha * l
        disc = tr * tr - 4 * beta
        if abs(disc) <= tol * max(1.0, tr * tr) and abs(abs(tr) / 2 - rho) <= tol:
            return 1
    return 0


# -- stationary error with gradient noise ---------------------------------------------------------------------------


def stationary_covariance(H, C, lr: float, momentum: float) -> np.ndarray:
    """Stationary covariance of delta = w - w* for the engine's HeavyBall(momentum) at lr on the noisy quadratic
    (gradient H delta + xi, xi ~ N(0, C)): the (delta, delta) block of S = A S A^T + G C G^T with
    A = [[I - lr H, -lr mu I], [H, mu I]], G = [-lr I; I] (momentum = 0: SGD, S = (I - lr H) S (.)^T + lr^2 C)."""
    H = np.asarray(H, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    d = H.shape[0]
    lr = check_float(lr, "lr", 0.0)
    m = check_float(momentum, "momentum", 0.0, 1.0, low_open=False)
    A = np.block([[np.eye(d) - lr * H, -lr * m * np.eye(d)], [H, m * np.eye(d)]])
    if spectral_radius(A) >= 1.0:
        raise SgdTheoryError(f"lr = {lr:g} is out of range: the momentum chain (momentum = {m:g}) is not stable "
                             f"(spectral radius {spectral_radius(A):.6g} >= 1)")
    G = np.vstack([-lr * np.eye(d), np.eye(d)])
    S = scipy.linalg.solve_discrete_lyapunov(A, G @ C @ G.T)
    S = 0.5 * (S + S.T)
    return S[:d, :d]


def stationary_excess(H, C, lr: float, momentum: float) -> float:
    """E L(w) - L(w*) = tr(H S)/2 at stationarity (exact, ``stationary_covariance``)."""
    S = stationary_covariance(H, C, lr, momentum)
    return float(0.5 * np.trace(np.asarray(H) @ S))


def langevin_excess(C, lr: float, momentum: float) -> float:
    """The small-lr ('effective learning rate') approximation: SGD at lr/(1 - mu) in the Langevin limit,
    H S + S H = lr_eff C, so E excess = lr_eff tr(C)/4 -- a negative control, not exact."""
    return float(lr / (1.0 - momentum) * np.trace(np.asarray(C)) / 4.0)


def relaxation_time(H, lr, momentum) -> float:
    """1/(1 - rho(A)) of the augmented chain (steps per e-fold, roughly): sets burn-in and run lengths."""
    H = np.asarray(H, dtype=np.float64)
    d = H.shape[0]
    A = np.block([[np.eye(d) - lr * H, -lr * momentum * np.eye(d)], [H, momentum * np.eye(d)]])
    return 1.0 / (1.0 - spectral_radius(A))


# -- D4: Lessard et al.'s piecewise quadratic ------------------------------------------------------------------------


def lessard_pieces(mu, L):
    """Slopes and offsets of grad f on the pieces x < 1, 1 <= x < 2, x >= 2: grad f = s_r x + c_r."""
    return ((L, 0), (mu, L - mu), (L, -(L - mu)))


def lessard_grad(x, mu: float = 1.0, L: float = 25.0):
    """grad f(x) = L x (x < 1), mu x + L - mu (1 <= x < 2), L x - (L - mu) (x >= 2) (vectorised)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 1, L * x, np.where(x < 2, mu * x + (L - mu), L * x - (L - mu)))


def lessard_f(x, mu: float = 1.0, L: float = 25.0):
    """f with f(0) = 0, continuous and C^1 (integral of lessard_grad)."""
    x = np.asarray(x, dtype=np.float64)
    f1 = L * x**2 / 2
    f2 = mu * x**2 / 2 + (L - mu) * x - (L - mu) / 2
    f3 = L * x**2 / 2 - (L - mu) * x + 3 * (L - mu) / 2
    return np.where(x < 1, f1, np.where(x < 2, f2, f3))


def _region(x) -> int:
    return 0 if x < 1 else (1 if x < 2 else 2)


@dataclass
class Cycle:
    """A periodic orbit x_0, ..., x_(p-1) of heavy ball (exact values), its pieces and its stability."""

    points: list  # SymPy exact numbers
    regions: tuple
    multipliers: list  # moduli of the eigenvalues of the period map's Jacobian

    @property
    def period(self) -> int:
        return len(self.points)

    @property
    def floats(self) -> np.ndarray:
        return np.array([float(p) for p in self.points])

    @property
    def stable(self) -> bool:
        return max(self.multipliers) < 1.0


def _exact(v):
    return sp.nsimplify(v, rational=True) if isinstance(v, (int, float)) else sp.sympify(v)


def _canonical(points) -> tuple:
    """Rotate a periodic orbit to start at its smallest point (orbits equal up to shift compare equal)."""
    fl = [float(p) for p in points]
    j = int(np.argmin(fl))
    return tuple(points[j:] + points[:j])


@lru_cache(maxsize=16)
def lessard_cycles(mu=1, L=25, max_period: int = 4, method: str = "heavy_ball") -> tuple[Cycle, ...]:
    """All periodic orbits of period 2..max_period of heavy ball (Polyak's tuning) or NAG (its tuning) on the
    piecewise quadratic, found exactly: for each assignment of pieces r_0..r_(p-1) the periodic orbit solves
    a linear system (exact SymPy arithmetic); it is kept when every point lies in its assigned piece and the
    orbit's least period is p.  Heavy ball on the pair (x_t, x_(t-1)); NAG (y_t = x_t + b(x_t - x_(t-1)),
    x_(t+1) = y_t - a grad(y_t)) likewise.  ``multipliers``: moduli of the eigenvalues of the product of the
    2x2 Jacobians (the pieces are affine, so this is exact)."""
    check_int(max_period, "max_period", 2, 6)
    muE, LE = _exact(mu), _exact(L)
    sm, sL = sp.sqrt(muE), sp.sqrt(LE)
    if method == "heavy_ball":
        a, b = sp.nsimplify(4 / (sL + sm) ** 2), sp.nsimplify(((sL - sm) / (sL + sm)) ** 2)
    elif method == "nag":
        a, b = 1 / LE, sp.nsimplify((sL - sm) / (sL + sm))
    else:
        raise SgdTheoryError(f"method: {method!r}; valid: heavy_ball, nag")
    pieces = [(sp.sympify(s), sp.sympify(c)) for s, c in lessard_pieces(muE, LE)]
    found: dict = {}
    for p in range(2, max_period + 1):
        for regs in product(range(3), repeat=p):
            # linear system M x = r for the orbit x_0..x_(p-1) (indices mod p)
            M = sp.zeros(p, p)
            r = sp.zeros(p, 1)
            for i in range(p):
                s, c = pieces[regs[i]]
                ip, im = (i + 1) % p, (i - 1) % p
                M[i, ip] += 1
                if method == "heavy_ball":  # x_(i+1) - (1 + b - a s) x_i + b x_(i-1) = -a c
                    M[i, i] -= 1 + b - a * s
                    M[i, im] += b
                else:  # x_(i+1) - (1 - a s)((1 + b) x_i - b x_(i-1)) = -a c
                    M[i, i] -= (1 - a * s) * (1 + b)
                    M[i, im] += (1 - a * s) * b
                r[i] = -a * c
            pts = _solve_exact(M, r)
            if pts is None:
                continue
            if method == "heavy_ball":
                evs = pts
            else:
                evs = [pts[i] + b * (pts[i] - pts[(i - 1) % p]) for i in range(p)]
            if any(_region(float(e)) != reg for e, reg in zip(evs, regs)):
                continue
            if _least_period(pts) != p:
                continue
            J = sp.eye(2)
            for i in range(p):
                s = pieces[regs[i]][0]
                if method == "heavy_ball":
                    Ji = sp.Matrix([[1 + b - a * s, -b], [1, 0]])
                else:
                    Ji = sp.Matrix([[(1 + b) * (1 - a * s), -b * (1 - a * s)], [1, 0]])
                J = Ji * J
            mults = [abs(complex(sp.N(ev, 30))) for ev in J.eigenvals(multiple=True)]
            key = _canonical(pts)
            if key not in found:
                j = [float(q) for q in pts].index(min(float(q) for q in pts))
                found[key] = Cycle(list(key), tuple(regs[j:] + regs[:j]), mults)
    return tuple(found.values())


def _least_period(pts) -> int:
    p = len(pts)
    for q in range(1, p + 1):
        if p % q == 0 and all(sp.simplify(pts[i] - pts[(i + q) % p]) == 0 for i in range(p)):
            return q
    return p


def _solve_exact(M: sp.Matrix, r: sp.Matrix):
    """The unique solution of M x = r in exact arithmetic (Fractions when all entries are rational, which is
    fast; SymPy otherwise), or None when M is singular."""
    from fractions import Fraction

    entries = list(M) + list(r)
    if all(e.is_Rational for e in entries):
        p = M.shape[0]
        A = [[Fraction(int(M[i, j].p), int(M[i, j].q)) for j in range(p)] + [Fraction(int(r[i].p), int(r[i].q))]
             for i in range(p)]
        for col in range(p):
            piv = next((i for i in range(col, p) if A[i][col] != 0), None)
            if piv is None:
                return None
            A[col], A[piv] = A[piv], A[col]
            for i in range(p):
                if i != col and A[i][col] != 0:
                    f = A[i][col] / A[col][col]
                    A[i] = [x - f * y for x, y in zip(A[i], A[col])]
        return [sp.Rational(A[i][p].numerator, A[i][p].denominator) / sp.Rational(A[i][i].numerator,
                A[i][i].denominator) for i in range(p)]
    if sp.simplify(M.det()) == 0:
        return None
    x = M.LUsolve(r)
    return [sp.nsimplify(sp.simplify(x[i])) for i in range(M.shape[0])]


def heavy_ball_1d(x0, n_steps: int, alpha: float, beta: float, grad) -> np.ndarray:
    """Iterates x_0..x_n of x_(t+1) = x_t - alpha grad(x_t) + beta (x_t - x_(t-1)), x_(-1) = x_0 (vectorised over
    starts; returns shape (n + 1, starts))."""
    x = np.atleast_1d(np.asarray(x0, dtype=np.float64)).copy()
    out = np.empty((n_steps + 1, x.size))
    out[0] = x
    xp = x.copy()
    for t in range(n_steps):
        xp, x = x, x - alpha * grad(x) + beta * (x - xp)
        out[t + 1] = x
    return out


def nag_1d(x0, n_steps: int, alpha: float, beta: float, grad) -> np.ndarray:
    """Iterates of y_t = x_t + beta (x_t - x_(t-1)), x_(t+1) = y_t - alpha grad(y_t), x_(-1) = x_0."""
    x = np.atleast_1d(np.asarray(x0, dtype=np.float64)).copy()
    out = np.empty((n_steps + 1, x.size))
    out[0] = x
    xp = x.copy()
    for t in range(n_steps):
        y = x + beta * (x - xp)
        xp, x = x, y - alpha * grad(y)
        out[t + 1] = x
    return out


# -- D5: a smooth convex problem on which GD is O(1/k) -------------------------------------------------------------


def convex_spectrum(d: int, lambda_min: float, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues log-uniform on [lambda_min, L] and initial errors x0_j = sqrt(log(L/lambda_min)/d) (equal):
    f(x_k) - f* of GD (step 1/L) ~ (1/4) x0^2 d/log(L/lambda_min) ... = 1/(4k) for 1 << k << L/lambda_min."""
    d = check_int(d, "d", 10)
    lambda_min = check_float(lambda_min, "lambda_min", 0.0)
    L = check_float(L, "L", lambda_min)
    lam = np.geomspace(lambda_min, L, d)
    x0 = np.full(d, np.sqrt(np.log(L / lambda_min) / d))
    return lam, x0


def gd_excess_exact(lam, x0, L: float, ks) -> np.ndarray:
    """f(x_k) - f* of GD with step 1/L on the diagonal quadratic: (1/2) sum_j lam_j x0_j^2 (1 - lam_j/L)^(2k)."""
    ks = np.asarray(ks)
    return np.array([0.5 * np.sum(lam * x0**2 * (1 - lam / L) ** (2 * int(k))) for k in ks])


def convex_runs(lam, x0, L: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """f(x_k) - f*, k = 0..n, of GD (step 1/L) and of NAG (step 1/L, momentum (k - 1)/(k + 2): x_1 = y_0 - grad/L,
    y_k = x_k + (k - 1)/(k + 2) (x_k - x_(k-1)); Beck & Teboulle's t-sequence replaced by its standard
    simplification) on f = sum_j lam_j x_j^2/2."""
    n = check_int(n_steps, "n_steps", 10)
    g = x0.astype(np.float64).copy()
    x = g.copy()
    xp = g.copy()
    fg = np.empty(n + 1)
    fn = np.empty(n + 1)
    fg[0] = fn[0] = 0.5 * np.sum(lam * g * g)
    step = 1.0 - lam / L
    for k in range(1, n + 1):
        g = step * g
        fg[k] = 0.5 * np.sum(lam * g * g)
        y = x + ((k - 2) / (k + 1)) * (x - xp)  # momentum (j - 1)/(j + 2) at j = k - 1
        xp, x = x, step * y
        fn[k] = 0.5 * np.sum(lam * x * x)
    return fg, fn


def window_slope(f, k_lo: int, k_hi: int, points: int = 24) -> float:
    """Least-squares slope of log f_k on log k over log-spaced k in [k_lo, k_hi] (f indexed by k)."""
    kk = np.unique(np.geomspace(k_lo, k_hi, points).astype(int))
    u = np.log(kk)
    y = np.log(np.asarray(f)[kk])
    return float(np.polyfit(u, y, 1)[0])


# -- SymPy derivations ----------------------------------------------------------------------------------------------


@dataclass
class Derivation:
    T: int
    d1_difference: sp.Expr  # theta_T (recursion) - theta_T (weighted sum): 0
    d1_wrong_difference: sp.Expr  # with weights mu^(k+1): non-zero
    d2_ema_step: sp.Expr  # one step: EMA w' - HB(lr eta(1-beta)) w' given m = (1-beta) v: 0
    d2_ema_state: sp.Expr  # m' - (1-beta) v': 0
    d2_wrong_lr: sp.Expr  # EMA w' - HB(lr eta) w': non-zero
    d2_mcallester: sp.Expr  # v' - N eta mu' given v = N eta mu: 0
    d2_mcallester_wrong: sp.Expr  # v' - eta mu' (a wrong scale): non-zero
    d3_discriminant_mu: sp.Expr
    d3_discriminant_L: sp.Expr
    d3_modulus_sq: sp.Expr  # |z|^2 - beta for complex roots: 0
    d3_rate: sp.Expr  # sqrt(beta) - (sqrt kappa - 1)/(sqrt kappa + 1): 0
    d3_disc_max: sp.Expr  # max of the discriminant over [mu, L] (<= 0)
    d5_differences: dict = field(default_factory=dict)  # form -> max over steps of iterate difference (0)
    d5_wrong_quiz: sp.Expr = sp.S.Zero  # quiz filled as heavy ball: non-zero

    def text(self) -> str:
        lines = [
            "D1: theta_(t+1) = theta_t - m_t, m_t = mu m_(t-1) + gamma g_t, m_(-1) = 0 (seed 001)",
            f"    theta_T(recursion) - theta_T(theta_0 - gamma sum_t sum_k mu^k g_(t-k)), T = {self.T}: "
            f"{self.d1_difference}",
            f"    with weights mu^(k+1) instead: {self.d1_wrong_difference}",
            "D2: EMA m' = beta m + (1 - beta) g, w' = w - eta m'  vs  heavy ball v' = beta v + g, w' = w - eta(1 - beta) v'",
            f"    given m = (1 - beta) v:  w'(EMA) - w'(HB) = {self.d2_ema_step};  m' - (1 - beta) v' = {self.d2_ema_state}",
            f"    heavy ball at lr eta instead: w'(EMA) - w'(HB) = {self.d2_wrong_lr}",
            "    McAllester (seed 003): v' = (1 - 1/N) v + eta g, mu' = (1 - 1/N) mu + g/N",
            f"    given v = N eta mu:  v' - N eta mu' = {self.d2_mcallester};  v' - eta mu' = {self.d2_mcallester_wrong}",
            "D3: roots of z^2 - (1 + beta - alpha lam) z + beta, Polyak's alpha = 4/(sqrt L + sqrt mu)^2, "
            "beta = ((sqrt L - sqrt mu)/(sqrt L + sqrt mu))^2",
            f"    discriminant at lam = mu: {self.d3_discriminant_mu};  at lam = L: {self.d3_discriminant_L}",
            f"    discriminant as a function of lam: maximum over [mu, L] = {self.d3_disc_max} (<= 0: complex roots)",
            f"    complex roots: |z|^2 - beta = {self.d3_modulus_sq};  sqrt(beta) - (sqrt kappa - 1)/(sqrt kappa + 1) = "
            f"{self.d3_rate}",
            f"D5: Nesterov forms against the slide's look-ahead form, generic gradient oracle, T = {self.T} steps "
            "(max |difference| of the iterates after simplification):",
        ]
        for k, v in self.d5_differences.items():
            lines.append(f"    {k}: {v}")
        lines.append(f"    control, quiz filled as 'theta = theta - m' (heavy ball): {self.d5_wrong_quiz}")
        return "\n".join(lines)


@lru_cache(maxsize=4)
def derive(T: int = 5) -> Derivation:
    """All SymPy identities of D1, D2, D3, D5 (T steps of each recursion with a symbolic gradient sequence)."""
    mu, gam, beta, eta, N = sp.symbols("mu gamma beta eta N", positive=True)
    g = sp.symbols(f"g0:{T + 1}")
    # D1
    th0 = sp.Symbol("theta0")
    m, th = sp.S.Zero, th0
    for t in range(T + 1):
        m = mu * m + gam * g[t]
        th = th - m
    unrolled = th0 - gam * sum(sum(mu**k * g[t - k] for k in range(t + 1)) for t in range(T + 1))
    wrong = th0 - gam * sum(sum(mu ** (k + 1) * g[t - k] for k in range(t + 1)) for t in range(T + 1))
    d1 = sp.simplify(sp.expand(th - unrolled))
    d1w = sp.factor(sp.expand(th - wrong))
    # D2 (one step, symbolic state): induction step
    v, w, gg = sp.symbols("v w g")
    mE = (1 - beta) * v
    mE2 = beta * mE + (1 - beta) * gg
    wE = w - eta * mE2
    v2 = beta * v + gg
    wH = w - eta * (1 - beta) * v2
    wH_wrong = w - eta * v2
    d2s = sp.simplify(wE - wH)
    d2m = sp.simplify(mE2 - (1 - beta) * v2)
    d2w = sp.factor(sp.simplify(wE - wH_wrong))
    muA = sp.Symbol("mu_hat")
    vM = N * eta * muA
    vM2 = (1 - 1 / N) * vM + eta * gg
    muA2 = (1 - 1 / N) * muA + gg / N
    d2mc = sp.simplify(vM2 - N * eta * muA2)
    d2mcw = sp.factor(sp.simplify(vM2 - eta * muA2))
    # D3
    lam, mS, LS, z = sp.symbols("lambda mu_s L", positive=True) + (sp.Symbol("z"),)
    a = 4 / (sp.sqrt(LS) + sp.sqrt(mS)) ** 2
    b = ((sp.sqrt(LS) - sp.sqrt(mS)) / (sp.sqrt(LS) + sp.sqrt(mS))) ** 2
    disc = (1 + b - a * lam) ** 2 - 4 * b
    dmu = sp.simplify(disc.subs(lam, mS))
    dL = sp.simplify(disc.subs(lam, LS))
    # the discriminant is a convex quadratic in lam vanishing at both ends: max over [mu, L] is at an end
    lead = sp.simplify(sp.Poly(sp.expand(disc), lam).LC())
    dmax = sp.Max(dmu, dL) if sp.simplify(lead) != 0 else sp.nan
    tr = 1 + b - a * lam
    # complex pair: z = tr/2 +- i sqrt(-disc)/2: |z|^2 = tr^2/4 - disc/4 = beta
    mod = sp.simplify(tr**2 / 4 - disc / 4 - b)
    q = sp.Symbol("q", positive=True)  # kappa = (1 + q)^2 > 1
    rate = sp.simplify(sp.sqrt(b).subs(LS, (1 + q) ** 2 * mS) - q / (q + 2))
    # D5: generic gradient oracle; each evaluation point gets a fresh symbol G_t once both forms agree on it
    d5, wrong_q = _nesterov_forms(T)
    return Derivation(T, d1, d1w, d2s, d2m, d2w, d2mc, d2mcw, dmu, dL, mod, rate, sp.simplify(dmax), d5, wrong_q)


def _nesterov_forms(T: int):
    """Iterate four Nesterov forms and a wrong quiz answer with one symbolic oracle: at step t the look-ahead
    point of the slide's form is phi_t; every other form must evaluate its gradient at a point equal to phi_t
    (checked by simplification), and then receives the same symbol G_t.  Returns max |iterate difference|
    per form (in the look-ahead variable phi) and, for the wrong quiz answer, the first non-zero difference."""
    mu, gam = sp.symbols("mu gamma", positive=True)
    th0 = sp.Symbol("theta0")
    G = sp.symbols(f"G0:{T + 1}")
    # (a) slide look-ahead form: m_t = mu m_(t-1) + gamma grad(theta_t - mu m_(t-1)); theta_(t+1) = theta_t - m_t
    th, m = th0, sp.S.Zero
    phi_a = []
    # (b) quiz form on x = phi: dtheta = grad(x); m_old = m; m = mu m + lr dtheta; x = x + mu m_old - (1 + mu) m
    xb, mb = th0, sp.S.Zero
    # (c) PyTorch / engine Nesterov on w = phi, lr = gamma: v' = mu v + g, w' = w - lr (g + mu v')
    wc, vc = th0, sp.S.Zero
    # (d) two sequences: y_t = x_t + mu (x_t - x_(t-1)), x_(t+1) = y_t - gamma grad(y_t); x_(-1) = x_0
    xd, xdp = th0, th0
    # wrong quiz: x = x - m (heavy ball on phi)
    xw, mw = th0, sp.S.Zero
    diffs = {"quiz form (x = x + mu m_old - (1 + mu) m)": sp.S.Zero, "PyTorch / engine Nesterov": sp.S.Zero,
             "two-sequence form y = x + mu (x - x_prev)": sp.S.Zero}
    wrong = sp.S.Zero
    wrong_alive = True
    for t in range(T + 1):
        pa = sp.expand(th - mu * m)
        phi_a.append(pa)
        yd = xd + mu * (xd - xdp)
        pts = {"quiz form (x = x + mu m_old - (1 + mu) m)": xb, "PyTorch / engine Nesterov": wc,
               "two-sequence form y = x + mu (x - x_prev)": yd}
        for k, pnt in pts.items():
            dif = sp.simplify(sp.expand(pnt - pa))
            if dif != 0:
                diffs[k] = dif
        if wrong_alive:
            dw = sp.simplify(sp.expand(xw - pa))
            if dw != 0:
                wrong, wrong_alive = dw, False
        # one step of each with the common oracle value G_t
        m = mu * m + gam * G[t]
        th = th - m
        mold = mb
        mb = mu * mb + gam * G[t]
        xb = xb + mu * mold - (1 + mu) * mb
        vc = mu * vc + G[t]
        wc = wc - gam * (G[t] + mu * vc)
        xd, xdp = yd - gam * G[t], xd
        mw = mu * mw + gam * G[t]
        xw = xw - mw
    return diffs, wrong


__all__ = ["polyak_tuning", "nag_tuning", "gd_tuning", "hb_rate", "gd_rate", "iteration_matrix", "spectral_radius",
           "heavy_ball_root_moduli", "heavy_ball_radius", "polyak_radius",
           "stationary_covariance", "stationary_excess", "langevin_excess", "lessard_grad", "lessard_f",
           "lessard_cycles", "heavy_ball_1d", "nag_1d", "convex_spectrum", "gd_excess_exact", "convex_runs",
           "window_slope", "derive", "Derivation", "Cycle"]
