r"""Stationary covariance, probability current and detailed balance of SGD on a noisy quadratic (claim B2).

Source: D. McAllester, TTIC 31230 SGD slides (seed ``003``), slide "Stationary Distributions": "In one
dimension the stationary distribution is a Boltzman distribution. But this is not generally true in
dimension higher than 1."  Langevin form from slide "Langevin Dynamics":
:math:`d\Phi = -g\,dt + \sqrt{\eta}\,\epsilon\sqrt{dt}`, :math:`\epsilon \sim N(0, \Sigma)`.

Setting
-------
``problems.GaussianNoiseQuadratic(H, C)``: gradient oracle :math:`H\delta + \xi`, :math:`\xi \sim N(0, C/B)`
(:math:`\delta = w - w^*`).  SGD with a constant step is the linear Gaussian chain (a discrete
Ornstein-Uhlenbeck process)

.. math:: \delta_{t+1} = A\delta_t - \eta\xi_t, \qquad A = I - \eta H .

Stationary covariance (exact).  :math:`S = E[\delta\delta^\top]` solves the discrete Lyapunov equation

.. math:: S = A S A^\top + \eta^2 C/B \iff HS + SH - \eta HSH = \eta C/B ,

solved by ``scipy.linalg.solve_discrete_lyapunov``.  The Langevin (continuous-time) approximation
drops :math:`\eta HSH`: :math:`H S_c + S_c H = \eta C/B` (``solve_continuous_lyapunov``), so
:math:`S = S_c + O(\eta^2)` (relative error :math:`O(\eta)`).  Writing :math:`S = \sum_{k\ge1}\eta^k S_k`:
:math:`HS_1 + S_1H = C/B` and :math:`HS_{k+1} + S_{k+1}H = HS_kH`.

Boltzmann candidate.  :math:`p \propto \exp(-L/T)` with :math:`L = \delta^\top H\delta/2` is
:math:`N(0, T H^{-1})`.  Every member of that family commutes with :math:`H`, so the
temperature-free test is :math:`[S, H] = SH - HS = 0`; the least-squares temperature is
:math:`T^* = \langle S, H^{-1}\rangle_F / \|H^{-1}\|_F^2` and the residual :math:`R = S - T^*H^{-1}` is
orthogonal to :math:`H^{-1}`, so :math:`\langle S, R\rangle_F / (\|R\|_F\|S\|_F)` is zero for *every*
Boltzmann covariance and equals the relative distance :math:`\|R\|_F/\|S\|_F` for :math:`S`.

* :math:`[C, H] = 0 \iff [S, H] = 0` (S is a power series in :math:`A` applied to :math:`C`; conversely
  :math:`C/B = (S - ASA)/\eta^2` commutes with :math:`H` when :math:`S` does).
* :math:`C = cI` (isotropic noise): :math:`S = \tfrac{\eta c}{B}H^{-1}(2I - \eta H)^{-1}
  = T H^{-1} + \tfrac{\eta T}{2}I + O(\eta^2 T)`, :math:`T = \eta c/(2B)`: Boltzmann to first order
  in :math:`\eta`, never exactly at finite :math:`\eta`.
* :math:`C = cH`: :math:`S = \tfrac{\eta c}{B}(2I - \eta H)^{-1} \approx \tfrac{\eta c}{2B} I`, which
  commutes with :math:`H` (detailed balance) but is isotropic, *not* :math:`T H^{-1}` unless
  :math:`H \propto I`.  (CLAIMS.md B2 says "T H^-1 only when C ∝ H"; the Langevin algebra
  :math:`H(TH^{-1}) + (TH^{-1})H = 2TI` shows it is C ∝ I.)

Probability current.  The stationary pair :math:`(\delta_t, \delta_{t+1})` is Gaussian with cross moment
:math:`E[\delta_t\delta_{t+1}^\top] = SA^\top`.  The chain is reversible (detailed balance) iff that
matrix is symmetric.  Its antisymmetric part is the mean angular momentum per step

.. math:: \ell = E[\delta_t\delta_{t+1}^\top - \delta_{t+1}\delta_t^\top] = SA^\top - AS = -\eta(SH - HS),

(in 2-D, :math:`\ell_{01} = E[u_tv_{t+1} - v_tu_{t+1}]`), non-zero exactly when detailed balance fails,
i.e. exactly when :math:`[C, H] \ne 0`.  In the continuous limit :math:`\ell/\eta \to -[S,H]`, the
first moment :math:`\int \delta \wedge J(\delta)\,d\delta` of the Fokker-Planck probability current.

Power of a Monte Carlo test.  For the stationary chain and a symmetric :math:`Q`, the time average
:math:`\bar q = T^{-1}\sum_t \delta_t^\top Q\delta_t` has (Isserlis)
:math:`\mathrm{Cov}(q_t, q_{t+s}) = 2\,\mathrm{tr}(QSA^sQA^sS)` and, in :math:`H`'s eigenbasis
(:math:`A = \mathrm{diag}(a)`),

.. math:: \mathrm{Var}\,\bar q = \frac{2}{T}\sum_{k,l} (SQS)_{lk}Q_{kl}\,f_T(a_ka_l), \qquad
          f_T(x) = \frac{1+x}{1-x} - \frac{2x(1-x^T)}{T(1-x)^2}.

``window_current_variance`` gives the exact variance of a window average of :math:`\delta_t^\top J
\delta_{t+1}` the same way, lag by lag.  A test of a wrong value at distance :math:`D` from the truth, by an
interval :math:`\pm z\,\mathrm{se}`, rejects with probability
:math:`\Phi(D/\mathrm{se} - z) + \Phi(-D/\mathrm{se} - z)` (``rejection_probability``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy import special

from ..errors import SgdTheoryError, as_float_array, check_float, check_int


def _matrices(H, C) -> tuple[np.ndarray, np.ndarray]:
    H = as_float_array(H, "H", 2)
    C = as_float_array(C, "C", 2)
    d = H.shape[0]
    if H.shape != (d, d) or C.shape != (d, d):
        raise SgdTheoryError(f"H, C: expected two square matrices of the same size, got {H.shape} and {C.shape}")
    return 0.5 * (H + H.T), 0.5 * (C + C.T)


def eigenframe(H) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of H in ascending order and an orthogonal U (H = U diag(lam) U^T) with det U = +1.

    det U = +1 keeps the orientation, so the 2-D angular momentum u_t v_(t+1) - v_t u_(t+1) is the same
    number in the eigenbasis and in the original coordinates.
    """
    H = as_float_array(H, "H", 2)
    lam, U = np.linalg.eigh(0.5 * (H + H.T))
    if np.linalg.det(U) < 0:
        U[:, -1] = -U[:, -1]
    return lam, U


def discrete_covariance(H, C, eta: float, batch_size: int = 1) -> np.ndarray:
    """Exact stationary covariance of delta_(t+1) = (I - eta H) delta_t - eta xi_t, xi ~ N(0, C/B):
    S = A S A^T + eta^2 C/B (scipy.linalg.solve_discrete_lyapunov)."""
    H, C = _matrices(H, C)
    eta = check_float(eta, "eta", 0.0)
    B = check_int(batch_size, "batch_size", 1)
    A = np.eye(H.shape[0]) - eta * H
    if np.max(np.abs(np.linalg.eigvalsh(A))) >= 1.0:
        raise SgdTheoryError(f"eta = {eta:g} is out of range: the chain is stationary only for eta < 2/lambda_max(H) "
                             f"= {2.0 / np.linalg.eigvalsh(H)[-1]:.6g}")
    S = scipy.linalg.solve_discrete_lyapunov(A, eta * eta * C / B)
    return 0.5 * (S + S.T)


def continuous_covariance(H, C, eta: float, batch_size: int = 1) -> np.ndarray:
    """Langevin approximation: H S + S H = eta C/B (scipy.linalg.solve_continuous_lyapunov)."""
    H, C = _matrices(H, C)
    eta = check_float(eta, "eta", 0.0)
    B = check_int(batch_size, "batch_size", 1)
    S = scipy.linalg.solve_continuous_lyapunov(H, eta * C / B)
    return 0.5 * (S + S.T)


def boltzmann_fit(S, H) -> tuple[float, np.ndarray]:
    """Least-squares temperature T* = <S, H^-1>_F / |H^-1|_F^2 and the residual R = S - T* H^-1 (R is
    Frobenius-orthogonal to H^-1, hence to every Boltzmann covariance T H^-1)."""
    Hi = np.linalg.inv(np.asarray(H, dtype=np.float64))
    S = np.asarray(S, dtype=np.float64)
    T = float(np.sum(S * Hi) / np.sum(Hi * Hi))
    return T, S - T * Hi


def boltzmann_distance(S, H) -> float:
    """|S - T* H^-1|_F / |S|_F: the relative distance of S from the Boltzmann family {T H^-1 : T > 0}."""
    _, R = boltzmann_fit(S, H)
    return float(np.linalg.norm(R) / np.linalg.norm(S))


def commutator(S, H) -> np.ndarray:
    """[S, H] = S H - H S (antisymmetric for symmetric S, H; zero iff detailed balance holds)."""
    S = np.asarray(S, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    return S @ H - H @ S


def lag_one_moment(S, H, eta: float) -> np.ndarray:
    """E[delta_t delta_(t+1)^T] = S A^T for the stationary chain, A = I - eta H."""
    S = np.asarray(S, dtype=np.float64)
    A = np.eye(S.shape[0]) - eta * np.asarray(H, dtype=np.float64)
    return S @ A.T


def angular_momentum(S, H, eta: float) -> np.ndarray:
    """l = E[delta_t delta_(t+1)^T - delta_(t+1) delta_t^T] = S A^T - A S = -eta (S H - H S)."""
    M = lag_one_moment(S, H, eta)
    return M - M.T


def contraction(H, eta: float) -> float:
    """rho = max_k |1 - eta lambda_k|: the slowest decay factor of the mean per step."""
    lam = np.linalg.eigvalsh(np.asarray(H, dtype=np.float64))
    return float(np.max(np.abs(1.0 - eta * lam)))


def relaxation_time(H, eta: float) -> float:
    """-1/log(rho) steps: the e-folding time of the slowest mode of the mean (about 1/(eta lambda_min))."""
    rho = contraction(H, eta)
    if rho >= 1.0:
        raise SgdTheoryError(f"eta = {eta:g}: the chain does not contract (max |1 - eta lambda| = {rho:.6g} >= 1)")
    return float(-1.0 / np.log(rho)) if rho > 0 else 1.0


def _f_T(x: np.ndarray, T: int) -> np.ndarray:
    """sum over s in (-T, T) of (1 - |s|/T) x^|s| (the variance factor of a mean of T correlated terms)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    near = np.abs(1.0 - x) < 1e-9
    xs = x[~near]
    out[~near] = (1 + xs) / (1 - xs) - 2 * xs * (1 - xs**T) / (T * (1 - xs) ** 2)
    out[near] = float(T)
    return out


def time_average_variance(Q, S, H, eta: float, T: int) -> float:
    """Exact Var of (1/T) sum_(t<T) delta_t^T Q delta_t along one stationary path (Q symmetric).

    Var = (2/T) sum_(k,l) (S'Q'S')_(lk) Q'_(kl) f_T(a_k a_l) in H's eigenbasis (module docstring).
    """
    lam, U = eigenframe(H)
    Qp = U.T @ (0.5 * (np.asarray(Q) + np.asarray(Q).T)) @ U
    Sp = U.T @ np.asarray(S, dtype=np.float64) @ U
    a = 1.0 - eta * lam
    F = _f_T(np.outer(a, a), int(T))
    G = Sp @ Qp @ Sp
    return float(2.0 / T * np.sum(G.T * Qp * F))


def window_current_variance(J, S, H, eta: float, K: int) -> float:
    """Exact Var of (1/K) sum_(t<K) delta_t^T J delta_(t+1) along one stationary path (any d x d J).

    With Gamma(m) = E[delta_(t+m) delta_t^T] (= A^m S for m >= 0, Gamma(-m) = Gamma(m)^T), Isserlis gives
    gamma(m) = Cov(q_t, q_(t+m)) = sum J_ij J_kl [Gamma(m)_ki Gamma(m)_lj + Gamma(m+1)_li Gamma(m-1)_kj], and
    Var = K^-2 sum_(|m|<K) (K - |m|) gamma(m).
    """
    K = check_int(K, "K", 1)
    lam, U = eigenframe(H)
    Jp = U.T @ np.asarray(J, dtype=np.float64) @ U
    Sp = U.T @ np.asarray(S, dtype=np.float64) @ U
    a = 1.0 - eta * lam
    m = np.arange(0, K + 1)
    pos = (a[None, :, None] ** m[:, None, None]) * Sp[None, :, :]  # Gamma(m) for m = 0..K
    gam = np.concatenate([np.transpose(pos[:0:-1], (0, 2, 1)), pos])  # Gamma(m) for m = -K..K
    idx = np.arange(-(K - 1), K) + K  # positions of m = -(K-1)..K-1
    G0, Gp, Gm = gam[idx], gam[idx + 1], gam[idx - 1]
    g = (np.einsum("ij,kl,mki,mlj->m", Jp, Jp, G0, G0) + np.einsum("ij,kl,mli,mkj->m", Jp, Jp, Gp, Gm))
    w = K - np.abs(np.arange(-(K - 1), K))
    return float(np.sum(w * g) / K**2)


def rejection_probability(distance: float, se: float, quantile: float) -> float:
    """P(|D + e| > z se) for e ~ N(0, se^2): the chance that an interval +- z se around an unbiased estimate
    excludes a wrong value at distance D from the truth (normal approximation)."""
    if se <= 0:
        return 1.0 if distance != 0 else 0.0
    r = abs(distance) / se
    return float(special.ndtr(r - quantile) + special.ndtr(-r - quantile))


# -- symbolic layer -----------------------------------------------------------------------------------------


def _rational_matrix(M):
    import sympy

    M = np.asarray(M, dtype=np.float64)
    return sympy.Matrix(M.shape[0], M.shape[1], lambda i, j: sympy.nsimplify(float(M[i, j]), rational=True))


@dataclass(frozen=True)
class SymbolicCovariance:
    """S(eta) solved exactly (SymPy, rational H and C) from H S + S H - eta H S H = eta C / B.

    ``S`` is the exact matrix of rational functions of ``eta``; ``S1`` = lim S/eta (the Langevin
    coefficient), ``S2`` the next one (S = eta S1 + eta^2 S2 + O(eta^3)).
    """

    eta: object
    S: object
    S1: object
    S2: object

    def boltzmann_distance_first_order(self, H) -> float:
        """|S1 - T1 H^-1|_F / |S1|_F, exact (T1 the least-squares temperature of S1): the first-order
        distance from the Boltzmann family; 0 iff the Langevin covariance is T H^-1."""
        import sympy

        Hs = _rational_matrix(H)
        Hi = Hs.inv()
        T1 = sum(self.S1[i, j] * Hi[i, j] for i in range(Hs.rows) for j in range(Hs.cols)) / \
            sum(Hi[i, j] ** 2 for i in range(Hs.rows) for j in range(Hs.cols))
        R = self.S1 - T1 * Hi
        num2 = sympy.nsimplify(sum(R[i, j] ** 2 for i in range(R.rows) for j in range(R.cols)))
        den2 = sum(self.S1[i, j] ** 2 for i in range(R.rows) for j in range(R.cols))
        return 0.0 if num2 == 0 else float(sympy.sqrt(num2 / den2).evalf(30))


def symbolic_covariance(H, C, batch_size: int = 1) -> SymbolicCovariance:
    """Solve H S + S H - eta H S H = eta C/B for symmetric S exactly (rational H, C; d <= 4)."""
    import sympy

    Hs, Cs = _rational_matrix(H), _rational_matrix(C)
    d = Hs.rows
    if d > 4:
        raise SgdTheoryError(f"H: the symbolic solution is limited to d <= 4, got d = {d}")
    eta = sympy.Symbol("eta", positive=True)
    syms = {}
    Ssym = sympy.zeros(d, d)
    for i in range(d):
        for j in range(i, d):
            syms[(i, j)] = sympy.Symbol(f"s{i}{j}")
            Ssym[i, j] = Ssym[j, i] = syms[(i, j)]
    E = Hs * Ssym + Ssym * Hs - eta * Hs * Ssym * Hs - eta * Cs / int(batch_size)
    eqs = [E[i, j] for i in range(d) for j in range(i, d)]
    sol = sympy.solve(eqs, list(syms.values()), dict=True)[0]
    S = Ssym.subs(sol).applyfunc(sympy.cancel)
    S1 = S.applyfunc(lambda e: sympy.limit(e / eta, eta, 0))
    S2 = (S - eta * S1).applyfunc(lambda e: sympy.limit(sympy.cancel(e / eta**2), eta, 0))
    return SymbolicCovariance(eta, S, S1, S2)


def symbolic_current_identities() -> dict:
    """SymPy, for generic symmetric 2 x 2 S and H: the antisymmetric part of S A^T is -eta [S, H] / 2, the
    2-D angular momentum E[u_t v_(t+1) - v_t u_(t+1)] = (S A^T - A S)_(01) = -eta (S H - H S)_(01), and
    [S, H]_(01) = S_01 (H_11 - H_00) - H_01 (S_11 - S_00) (zero iff S and H share eigenvectors)."""
    import sympy

    eta = sympy.Symbol("eta", positive=True)
    s00, s01, s11, h00, h01, h11 = sympy.symbols("s00 s01 s11 h00 h01 h11", real=True)
    S = sympy.Matrix([[s00, s01], [s01, s11]])
    H = sympy.Matrix([[h00, h01], [h01, h11]])
    A = sympy.eye(2) - eta * H
    M = S * A.T
    antisym = (M - M.T) / 2
    K = S * H - H * S
    return {
        "antisym_minus_commutator": sympy.simplify(antisym + eta * K / 2),
        "angular_momentum": sympy.expand((M - M.T)[0, 1]),
        "commutator_01": sympy.factor(K[0, 1]),
        "commutator_01_expected": sympy.expand(s01 * (h11 - h00) - h01 * (s11 - s00)),
        "symbols": (eta, S, H),
    }


__all__ = ["eigenframe", "discrete_covariance", "continuous_covariance", "boltzmann_fit", "boltzmann_distance",
           "commutator", "lag_one_moment", "angular_momentum", "contraction", "relaxation_time",
           "time_average_variance", "window_current_variance", "rejection_probability", "SymbolicCovariance",
           "symbolic_covariance", "symbolic_current_identities"]
