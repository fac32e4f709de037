"""Errata E6 and E9 (claim family A): formulas in the documents that are wrong as printed.

E6 -- seed 000 (Huszar), section "Convergence": "Unbiased-ness of gradients ... guarantees that the
empirical loss in SGD is non-decreasing on average, that it forms a super-martingale."  A
supermartingale is non-*increasing* on average.  Checked at points w away from the minimum with a
small learning rate: the exact one-step change on a quadratic,
E[L(w - eta g_B)] - L(w) = -eta |grad L|^2 + (eta^2/2)(grad L.Hbar grad L + c_B tr(Hbar Sigma(w))),
against one-step Monte Carlo; the printed sign (E[dL] >= 0) is rejected, the corrected one verified.

E9 -- seed 003 (McAllester), slide "SGD convergence": "Since lim_{t -> 0} eta_t = 0 we will
eventually get to arbitrarily small learning rates" (t -> infinity is meant), and the update
"Phi <- eta_t grad loss" lacks "Phi -".  SymPy takes both limits of eta_t = c/(t0 + t)^p; the
printed update, iterated exactly on the mean loss (translated so that its minimiser is not the
origin), goes to 0 instead of the minimiser, while the corrected update converges to it.
"""

from __future__ import annotations

import numpy as np
import sympy

from ..gradient_noise import sample_gradients
from ..sampling import Sampler
from ..stats import exact, replica_interval
from .base import AS_PRINTED, CLAIM, Check, Claim, ClaimResult, Settings, register
from .basin_sweep import BasinInstance
from .basin_sweep import default_instance as default_basin
from .basin_sweep import instance_from_config as basin_from_config

OFFSETS = (np.array([1.5, -1.0]), np.array([-0.8, -0.6]))


def expected_one_step_change(inst: BasinInstance, w, eta: float) -> float:
    """Exact E[L(w - eta g_B)] - L(w) on a quadratic finite sum with i.i.d. minibatches."""
    p = inst.problem
    G = p.gradients(w)
    grad = G.mean(axis=0)
    D = G - grad
    sigma = D.T @ D / G.shape[0]
    Hbar = p.mean_hessian
    cB = inst.sampler.noise_factor(p.n)
    return float(-eta * grad @ grad + 0.5 * eta**2 * (grad @ Hbar @ grad + cB * np.sum(Hbar * sigma)))


def run_e6(inst: BasinInstance, settings: Settings) -> ClaimResult:
    """E6: at points away from the minimum, E[L(w_{t+1}) - L(w_t) | w_t] < 0 for small eta (not >= 0)."""
    lv = settings.level
    p = inst.problem
    eta = 0.1 * inst.basin.stability_limit()
    paths, draws = (256, 2000) if settings.quick else (1024, 4000)
    Hbar = p.mean_hessian
    checks, data = [], {"eta": eta, "points": []}
    for j, off in enumerate(OFFSETS):
        w = p.minimizer + np.resize(off, p.d)
        grad = p.gradients(w).mean(axis=0)
        settings.step(f"point {j}")
        res = sample_gradients(p, w, inst.sampler, n_draws=draws, n_paths=paths, seed=settings.seed,
                               seed_key=(0xE6, j), center=np.zeros(p.d))
        # per path: mean over draws of L(w - eta g) - L(w) = -eta grad.g + eta^2/2 g.Hbar g
        first = res.first / res.n_draws
        second = res.second / res.n_draws
        change = -eta * first @ grad + 0.5 * eta**2 * np.einsum("pkl,kl->p", second, Hbar)
        est = replica_interval(change, lv)
        pred = expected_one_step_change(inst, w, eta)
        checks += [
            Check(f"exact E[dL] at point {j} (eta = {eta:.3g})", CLAIM, pred, est, 0.05 * abs(pred),
                  "-eta|grad L|^2 + eta^2/2 (grad L.Hbar grad L + c_B tr(Hbar Sigma(w)))"),
            Check(f"corrected: E[dL] <= 0 (non-increasing) at point {j}", CLAIM, 0.0, est, 0.0, "", bound=True),
            Check(f"as printed: E[dL] >= 0 (non-decreasing) at point {j}", AS_PRINTED, 0.0,
                  replica_interval(-change, lv), 0.0, "the printed claim, written as -E[dL] <= 0", bound=True),
        ]
        data["points"].append({"w": w.tolist(), "prediction": pred, "estimate": est.to_dict()})
    return ClaimResult("E6", checks, {**inst.describe(), "eta": eta}, data)


def run_e9(inst: BasinInstance, settings: Settings) -> ClaimResult:
    """E9: lim_{t->0} eta_t = 0 (printed) vs lim_{t->infinity}; Phi <- eta grad (printed) vs Phi <- Phi - eta grad."""
    t = sympy.Symbol("t", nonnegative=True)
    c, t0, pw = sympy.Rational(1, 2), sympy.Integer(10), sympy.Rational(3, 4)
    eta_t = c / (t0 + t) ** pw
    at_zero = sympy.limit(eta_t, t, 0)
    at_inf = sympy.limit(eta_t, t, sympy.oo)
    checks = [
        Check("as printed: lim_{t->0} eta_t = 0 for eta_t = (1/2)/(10+t)^(3/4)", AS_PRINTED, 0.0,
              exact(float(at_zero), f"SymPy: limit = {at_zero}"), 0.0),
        Check("corrected: lim_{t->oo} eta_t = 0", CLAIM, 0.0, exact(float(at_inf), f"SymPy: limit = {at_inf}"), 1e-12),
    ]
    p = inst.problem
    Hbar = p.mean_hessian
    # the mean loss translated so that its minimiser is away from the origin (the printed rule's
    # limit), Phi* = w* + (1, ..., 1); start at Phi* + (1, ..., 1)
    w_star = p.minimizer + 1.0
    eta = lambda k: 0.5 / (10 + k) ** 0.75  # noqa: E731  (the same schedule, numerically)
    w_printed = w_star + 1.0
    w_fixed = w_star + 1.0
    for k in range(20000):
        w_printed = eta(k) * (Hbar @ (w_printed - w_star))  # Phi <- eta_t grad L(Phi), as printed
        w_fixed = w_fixed - eta(k) * (Hbar @ (w_fixed - w_star))  # Phi <- Phi - eta_t grad L(Phi)
    d0 = float(np.linalg.norm(np.ones(p.d)))
    checks += [
        Check("as printed: Phi <- eta_t grad L reaches the minimiser (|Phi_T - Phi*| <= 1e-3 |Phi_0 - Phi*|)",
              AS_PRINTED, 1e-3 * d0, exact(float(np.linalg.norm(w_printed - w_star)), "exact iteration, 20000 steps"),
              0.0, f"the printed iteration goes to {np.round(w_printed, 6).tolist()} (eta_t grad -> 0), not Phi*",
              bound=True),
        Check("corrected: Phi <- Phi - eta_t grad L reaches the minimiser (<= 1e-3 |Phi_0 - Phi*|)", CLAIM, 1e-3 * d0,
              exact(float(np.linalg.norm(w_fixed - w_star)), "exact iteration, 20000 steps"), 0.0, "", bound=True),
    ]
    data = {"limit_t_to_0": float(at_zero), "limit_t_to_inf": float(at_inf), "w_star": w_star.tolist(),
            "printed_end": w_printed.tolist(), "corrected_end": w_fixed.tolist()}
    return ClaimResult("E9", checks, inst.describe(), data)


def _derive_e6(inst, latex=False):
    eta, g2, gHg, trHS, cB = sympy.symbols("eta |gradL|^2 gradL.Hbar.gradL tr(Hbar*Sigma) c_B", real=True)
    change = -eta * g2 + eta**2 / 2 * (gHg + cB * trHS)
    text = (f"E[L(w - eta g_B)] - L(w) = {change}\n"
            f"negative for 0 < eta < {sympy.solve(change / eta, eta)[0]} (whenever grad L != 0): the loss is a "
            "supermartingale (non-increasing on average), not non-decreasing as printed in 000")
    return sympy.latex(change) if latex else text


def _derive_e9(inst, latex=False):
    t = sympy.Symbol("t", nonnegative=True)
    c, t0, p = sympy.symbols("c t_0 p", positive=True)
    eta_t = c / (t0 + t) ** p
    text = (f"eta_t = {eta_t};  lim t->0: {sympy.limit(eta_t, t, 0)};  lim t->oo: {sympy.limit(eta_t, t, sympy.oo)}\n"
            "printed update Phi <- eta_t grad L(Phi) has fixed point 0 as eta_t -> 0; corrected Phi <- Phi - eta_t grad L")
    return sympy.latex(eta_t) if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import errata_a as fe

        return fe.FIGURES[claim_id](result, outdir)
    return make


register(Claim("E6", "Erratum: 'the loss in SGD is non-decreasing on average' (non-increasing is meant)",
               "000, section 'Convergence'", "printed: E[L(w_{t+1}) | w_t] >= L(w_t); correct: <=", "erratum",
               run_e6, _derive_e6, _figure("E6"), default_basin, basin_from_config))
register(Claim("E9", "Erratum: 'lim_{t->0} eta_t = 0' and 'Phi <- eta_t grad' in the convergence proof",
               "003, slide 'SGD convergence'", "printed: lim_{t->0} eta_t = 0, Phi <- eta_t grad loss; correct: "
               "t -> infinity, Phi <- Phi - eta_t grad loss", "erratum", run_e9, _derive_e9, _figure("E9"),
               default_basin, basin_from_config))
