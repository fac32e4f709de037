"""Claim D3 -- seeds 000/001 ("narrow valley"), Polyak 1964: on a quadratic with condition number kappa, Polyak's
tuning of heavy ball gives rate rho(T) = (sqrt kappa - 1)/(sqrt kappa + 1) against (kappa - 1)/(kappa + 1) for tuned
GD; with gradient noise N(0, C) each settles at the stationary excess loss tr(H S)/2, S from the augmented Lyapunov
equation (``theory.momentum``).

Written with the public API of a researcher's own derivation (``sgdtheory.derivations``).  The Monte Carlo part is
the stationary excess loss (time average after a burn-in of 40 relaxation times, one value per independent path) at
three explicit points (lr, momentum): heavy ball with Polyak's tuning, tuned GD, and heavy ball at the identity
paths' (lr, momentum) of D1/D2/D5, where the continuous-time value is a few per cent off.  The package plans the
paths from a pilot and poses the controls before measuring:

* the Langevin "effective learning rate" value lr/(1 - momentum) tr(C)/4 -- the continuous-time approximation: a
  negative control where it is at least 3 planned half-widths off, otherwise an approximation with a planned verdict;
* GD's stationary error (momentum changes the noise floor);
* the coefficient off by the resolution (automatic); a control nearer than the resolution is listed, not posed.

The exact part is unchanged from the family module: SymPy (the discriminant vanishes at mu and L, |z| = sqrt(beta)),
the spectral radii of the iteration matrices, and the decay rates measured on noise-free engine runs (a fit of
k rho^k for heavy ball, whose extreme roots are repeated), with the settling allowance of ``momentum``.
"""

from __future__ import annotations

import numpy as np

from ..derivations import Derivation, Measure
from ..optimizers import SGD, HeavyBall
from ..stats import exact
from ..theory import momentum as th
from .base import CLAIM, NEGATIVE_CONTROL, Check, register
from ..errors import SgdTheoryError
from ..problems import GaussianNoiseQuadratic
from ..simulate import simulate
from .momentum import MomentumInstance, _derive, default_instance, instance_from_config

#: the measured decay rates: absolute resolution on rho
RES_RATE = 2e-3


def _settled(k, y, K: int) -> tuple[float, float]:
    """Slope of y on k fitted on [K/2, K] and the settling allowance 3 |slope[K/2, K] - slope[K/4, K/2]|."""
    k = np.asarray(k)
    y = np.asarray(y)

    def fit(a, b):
        sel = (k >= a) & (k <= b)
        return float(np.polyfit(k[sel], y[sel], 1)[0])

    s2 = fit(K // 2, K)
    s1 = fit(K // 4, K // 2)
    return s2, 3.0 * abs(s2 - s1)


def decay_rate(inst: MomentumInstance, optimizer, lr: float, jordan: int, floor: float = 1e-11):
    """Measured asymptotic rate of a noise-free engine run: fit log|delta_k| - jordan log k = c + k log rho on
    [K/2, K], K the step where |delta_k| first reaches ``floor`` |delta_0| (before rounding).  Returns
    (rho_hat, allowance on rho, K, ks, |delta_k|)."""
    quiet = GaussianNoiseQuadratic(inst.H, np.zeros_like(inst.C), inst.w_star)
    rho_bound = th.spectral_radius(th.iteration_matrix(inst.H, lr, getattr(optimizer, "momentum", 0.0)))
    n = int(2 * np.log(floor) / np.log(rho_bound)) + 200  # the k^jordan factor costs far less than 2x
    res = simulate(quiet, lr, optimizer=optimizer, n_steps=n, n_paths=1, seed=0, w0=inst.w0,
                   record_steps=range(n + 1), record=("dist_sq",))
    r = np.sqrt(res.record_values[0, :, 0])
    below = np.nonzero(r <= floor * r[0])[0]
    if below.size == 0:
        raise SgdTheoryError(f"H: the noise-free run did not decay to {floor:g} of its start in {n} steps")
    K = int(below[0])
    if K < 40:
        raise SgdTheoryError("H: the decay is too fast to fit a rate (fewer than 40 steps to the floor)")
    ks = np.arange(1, K + 1)
    y = np.log(r[1:K + 1]) - jordan * np.log(ks)
    s, tol = _settled(ks, y, K)
    rho = float(np.exp(s))
    return rho, rho * tol + 1e-12, K, ks, r[:K + 1]


def _points(inst) -> list[dict]:
    """(lr, momentum): heavy ball with Polyak's tuning, tuned GD, heavy ball at the identity paths' values."""
    mu, L = inst.mu_L
    a, b = th.polyak_tuning(mu, L)
    pts = [{"lr": a, "momentum": b}, {"lr": th.gd_tuning(mu, L), "momentum": 0.0}]
    if (inst.lr, inst.momentum) not in [(p["lr"], p["momentum"]) for p in pts]:
        pts.append({"lr": inst.lr, "momentum": inst.momentum})
    return pts


def _tau(p) -> float:
    return th.relaxation_time(p["instance"].H, p["lr"], p["momentum"])


def _steps(p) -> int:
    return int(min(max(20000, 400 * _tau(p)), 2_000_000))


def _stationary(p) -> float:
    inst = p["instance"]
    return th.stationary_excess(inst.H, inst.C, p["lr"], p["momentum"])


def _exact_checks(inst, settings):
    """SymPy, the spectral radii and the noise-free decay rates (deterministic), and the figure's decay curves."""
    mu, L = inst.mu_L
    kappa = L / mu
    der = th.derive()
    a, b = th.polyak_tuning(mu, L)
    ag = th.gd_tuning(mu, L)
    hb_pred, gd_pred = th.hb_rate(kappa), th.gd_rate(kappa)
    rhoT_hb = th.polyak_radius(inst.H, mu, L)  # from the roots in closed form (eigvals: ~1e-8 at the double roots)
    rhoT_hb_rounded = th.heavy_ball_radius(inst.H, a, b)  # the rounded alpha, beta the engine runs with
    rhoT_gd = th.spectral_radius(np.eye(inst.d) - ag * inst.H)
    defect = th.jordan_defect(inst.H, a, b)
    checks = [
        Check("SymPy: Polyak's tuning makes the discriminant vanish at lambda = mu and lambda = L, and <= 0 between "
              "(1 = violated)", CLAIM, 0.0,
              exact(float(not (der.d3_discriminant_mu == 0 and der.d3_discriminant_L == 0 and der.d3_disc_max == 0)),
                    "SymPy simplify"), 1e-9, "repeated roots at both ends: a 2x2 Jordan block, error ~ k rho^k"),
        Check("SymPy: complex roots have |z| = sqrt(beta) = (sqrt kappa - 1)/(sqrt kappa + 1) (1 = violated)", CLAIM, 0.0,
              exact(float(der.d3_modulus_sq != 0 or der.d3_rate != 0), "SymPy simplify"), 1e-9, ""),
        Check(f"spectral radius of the heavy-ball iteration matrix T (Polyak's tuning, kappa = {kappa:.4g}) = "
              "(sqrt kappa - 1)/(sqrt kappa + 1)", CLAIM, hb_pred,
              exact(rhoT_hb, "max root modulus of z^2 - (1 + beta - alpha lam) z + beta over the eigenvalues of H, "
                    "exact tuning (SymPy sign of the discriminant, 30 digits)", abs_tol=1e-15), 1e-9,
              f"|difference| = {abs(rhoT_hb - hb_pred):.2g} (the interval's width is stats.exact's 1e-10 relative "
              f"floor); Jordan defect found: {defect}; with the rounded alpha, beta the engine runs the exact radius is "
              f"{rhoT_hb_rounded:.17g} (a double root split by rounding)"),
        Check("control: heavy ball's rho(T) = the GD rate (kappa - 1)/(kappa + 1)", NEGATIVE_CONTROL, gd_pred,
              exact(rhoT_hb, "roots in closed form", abs_tol=1e-15), 1e-9, ""),
        Check("spectral radius of I - 2/(L + mu) H (tuned GD) = (kappa - 1)/(kappa + 1)", CLAIM, gd_pred,
              exact(rhoT_gd, "numpy eigvals", abs_tol=1e-12), 1e-9, ""),
    ]
    settings.step("D3: noise-free decay runs")
    rho_hb, tol_hb, K_hb, ks_hb, r_hb = decay_rate(inst, HeavyBall(b), a, jordan=defect)
    rho_gd, tol_gd, K_gd, ks_gd, r_gd = decay_rate(inst, SGD(), ag, jordan=0)
    est_hb = exact(rho_hb, f"fit of log|delta_k| - log k on k in [{K_hb // 2}, {K_hb}]; allowance 3 x the change "
                   "from the fit on [K/4, K/2]", abs_tol=tol_hb)
    est_gd = exact(rho_gd, f"fit of log|delta_k| on k in [{K_gd // 2}, {K_gd}]; allowance as for heavy ball",
                   abs_tol=tol_gd)
    checks += [
        Check("engine, noise-free: measured heavy-ball decay rate (fit of k rho^k) = (sqrt kappa - 1)/(sqrt kappa + 1)",
              CLAIM, hb_pred, est_hb, RES_RATE, f"resolution {RES_RATE:g} on rho; deterministic run"),
        Check("control: measured heavy-ball rate = the GD rate", NEGATIVE_CONTROL, gd_pred, est_hb, RES_RATE, ""),
        Check("engine, noise-free: measured GD decay rate = (kappa - 1)/(kappa + 1)", CLAIM, gd_pred, est_gd, RES_RATE,
              f"resolution {RES_RATE:g} on rho"),
        Check("control: measured GD rate = the heavy-ball rate", NEGATIVE_CONTROL, hb_pred, est_gd, RES_RATE, ""),
    ]
    data = {"kappa": kappa, "alpha": a, "beta": b, "alpha_gd": ag, "hb_rate": hb_pred, "gd_rate": gd_pred,
            "rho_hb": rho_hb, "tol_hb": tol_hb, "rho_gd": rho_gd, "tol_gd": tol_gd, "r_hb": r_hb.tolist(),
            "r_gd": r_gd.tolist(), "K_hb": K_hb, "K_gd": K_gd, "jordan": defect,
            "stationary": {"hb": {"pred": th.stationary_excess(inst.H, inst.C, a, b)},
                           "gd": {"pred": th.stationary_excess(inst.H, inst.C, ag, 0.0)},
                           "langevin_hb": th.langevin_excess(inst.C, a, b)}}
    return checks, data


def _figure(result, outdir) -> list[str]:
    """The family's figure: decay curves (left), the stationary errors of rows 0 (heavy ball) and 1 (GD) (right)."""
    from ..figures.momentum import figure_d3

    st = result.data["stationary"]
    for key, row in zip(("hb", "gd"), result.data["rows"]):
        st[key]["mc"] = row["estimate"]
    return figure_d3(result, outdir)


D3 = Derivation(
    id="D3",
    title="Momentum in a narrow valley: Polyak's rate and the noise floor",
    source="000 'Momentum'; 001 'Momentum'; Polyak 1964",
    statement="rho = (sqrt kappa - 1)/(sqrt kappa + 1) for heavy ball vs (kappa - 1)/(kappa + 1) for GD; stationary "
              "errors from the Lyapunov equation",
    kind="rate",
    prediction=_stationary,
    measure=Measure(problem=lambda p: p["instance"].problem,
                    optimizer=lambda p: HeavyBall(p["momentum"]) if p["momentum"] > 0 else SGD(),
                    lr=lambda p: p["lr"], observable="excess_loss", steps=_steps,
                    burn_in=lambda p: int(min(40 * _tau(p), _steps(p) // 4)),
                    w0=lambda p: p["instance"].w_star),
    grid=_points,
    small="lr",
    resolution=0.025,
    approximations={"the Langevin 'effective lr' value lr/(1 - momentum) tr(C)/4":
                    lambda p: th.langevin_excess(p["instance"].C, p["lr"], p["momentum"])},
    controls={"tuned GD's stationary error (momentum changes the noise floor)":
              lambda p: th.stationary_excess(p["instance"].H, p["instance"].C,
                                             th.gd_tuning(*p["instance"].mu_L), 0.0)},
    instance=default_instance,
    from_config=instance_from_config,
    extra_checks=_exact_checks,
    figure=_figure,
    derivation=_derive,
)

register(D3.to_claim())
