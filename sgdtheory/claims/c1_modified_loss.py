r"""Claim C1 -- seed 002 (Huszár, DeepNN lecture 4, "Implicit regularization in SGD"), seed 000; Smith, Dherin,
Barrett & De, ICLR 2021, eq. 1: n examples in m minibatches of fixed composition, one epoch of m SGD steps in a
uniformly random order; over the order

    E[w_m] = w(m eta) + O(m^3 eta^3),  w' = -grad L~_SGD,
    L~_SGD = L + (eta/4m) sum_k |grad L_k|^2 = L + (eta/4)|grad L|^2 + (eta/4m) sum_k |grad L_k - grad L|^2,

while the plain flow of L is off by O(m^2 eta^2).

Written with the public API of a researcher's own derivation (``sgdtheory.derivations``).  The Monte Carlo part is
a leading-order claim (``order=1``): over orders (Numba kernel ``_kernels.epoch_orders``, one antithetic pair
(pi, reverse pi) per independent replica), Y = u.(mean of the pair's delta_m - delta~_SGD(m eta)), u along the
exact leading coefficient C3 of the residual (``theory.modified_loss``), is predicted to be |C3| eta^3 (1 + O(eta))
on the ``mc_etas`` grid.  Every point is an *approximation* check; the claim is the extrapolation eta -> 0 of
measured / predicted (weighted fit a + c eta): a = 1 within 1% (half the resolution 0.02), against a = 1 +- 2% (automatic) and the researcher's controls,
each judged the same way (eta -> 0 limit of measured / control = 1): the plain flow of L, the GD-only modified loss
L + (eta/4)|grad L|^2 and the wrong coefficient (eta/2m) sum |grad L_k|^2 -- each predicts an O(eta^2) residual
u.(delta~_control - delta~_SGD).  The package plans the pairs from a pilot.

The exact part is unchanged from the family module (``implicit_regularisation``, which keeps the instance, its
config format and C2): SymPy backward error analysis (general L_k, m = 2, 3; the instance's quadratic batches),
exact enumeration over the m! orders (quadratic) and in 30-digit arithmetic (1-D quartic), the composition
variant over every partition, with deterministic settled log-log slopes (resolution 0.05); and the Monte Carlo
order average at eta_p = 8 x the largest mc eta against the exact one, pairs planned so that its leading term
C3 eta^3 (one order lower) sits 9 planned half-widths away in full mode (the headline check).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._kernels.epoch_orders import epoch_order_pairs
from .._kernels.rng import path_states
from ..derivations import Derivation, Measure
from ..errors import check_int
from ..simulate import _seed_sequence
from ..stats import exact, replica_interval
from ..theory import modified_loss as ml
from .base import CLAIM, NEGATIVE_CONTROL, Check, Settings, register
from .implicit_regularisation import (MAX_ETA_CURVATURE, MP_DPS, POLY_FLOOR, ImplicitRegInstance, _count_nonzero,
                                      _derive, _fit_dict, _slope_checks, closing_note, default_instance,
                                      instance_from_config)

SEED = 0xC1
MC_MEAN_RES = 0.03  # relative to the L~_SGD error at the planned Monte Carlo eta
PLAN_HALF_WIDTHS = 9.0  # planned distance of the near control (full mode; half in quick mode)
MEAN_ETA_FACTOR = 8.0  # the planned Monte Carlo mean is taken at this multiple of the largest mc eta
MEAN_PILOT = 1024
MAX_MEAN_PAIRS = 1 << 18


def _symbolic_checks_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    checks = []
    nz = sum(_count_nonzero(ml.derive_general(m).difference) for m in (2, 3))
    curl = sum(_count_nonzero([ml.derive_general(m).curl]) for m in (2, 3))
    checks.append(Check("SymPy (general L_k, d = 2, m = 2, 3, all orders): recovered O(eta) field f1 = "
                        "-grad[(1/4m) sum_k |grad L_k|^2] (number of non-zero components of the difference)", CLAIM,
                        0.0, exact(nz, "SymPy backward error analysis"), 0.0,
                        f"the recovered f1 is a gradient field: non-zero curls {curl:g}"))
    gd = _count_nonzero(ml.derive_general(2).gd_only_difference)
    checks.append(Check("control: SymPy (m = 2): f1 = -grad[(1/4)|grad L|^2] (GD-only modified loss)",
                        NEGATIVE_CONTROL, 0.0, exact(gd, "SymPy backward error analysis"), 0.0,
                        "the difference is -grad[(1/4m) sum |grad L_k - grad L|^2] (SymPy checks this too)"))
    ident = _count_nonzero([ml.derive_general(3).identity]) + sum(
        _count_nonzero(ml.derive_general(m).variance_difference) for m in (2, 3))
    checks.append(Check("SymPy: (1/4m) sum |g_k|^2 = (1/4)|g|^2 + (1/4m) sum |g_k - g|^2 and the GD-only gap is "
                        "exactly the variance term", CLAIM, 0.0, exact(ident, "SymPy simplify"), 0.0,
                        "the two printed forms of L~_SGD agree"))
    qb = inst.quadratic()
    if qb.m <= 6:
        q = ml.derive_quadratic(qb.G, qb.H)
        import sympy as sp

        mism = _count_nonzero(list(q.A1 - q.A1_claimed) + list(q.r1 - q.r1_claimed) + [sp.expand(q.L1 - q.L1_claimed)])
        checks.append(Check(f"SymPy (instance's quadratic batches, m = {qb.m}, exact rationals, symbolic start): "
                            "recovered L_1 = (1/4m) sum_k |G_k + H_k delta|^2 + const", CLAIM, 0.0,
                            exact(mism, "SymPy"), 0.0, f"L_1 - L_1(0) = {q.L1}"))
        c2 = {k: float(max(abs(float(v)) for v in q.coefficients[k][1])) for k in ml.FLOWS}
        c3 = float(max(abs(float(v)) for v in q.coefficients["sgd"][2]))
        checks.append(Check("SymPy: eta^2 coefficient of E[delta_m] - delta~_SGD(m eta) = 0 (error O(eta^3))", CLAIM,
                            0.0, exact(c2["sgd"], "SymPy series"), 0.0,
                            f"the eta^3 coefficient is non-zero (max component {c3:.6g}): the exponent is exactly 3"))
        for kind in ("plain", "gd", "wrong"):
            checks.append(Check(f"control: SymPy: eta^2 coefficient of E[delta_m] - delta~ = 0 for the "
                                f"{ml.FLOWS[kind][2]}", NEGATIVE_CONTROL, 0.0, exact(c2[kind], "SymPy series"), 0.0,
                                "max |component|"))
        data["sympy_coefficients"] = {k: [[float(v) for v in c] for c in q.coefficients[k]] for k in ml.FLOWS}
    return checks


def _enumeration_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    qb = inst.quadratic()
    etas = np.array(inst.etas)
    means = [qb.epoch_mean(e) for e in etas]
    floor = qb.rounding_floor(etas)
    fits, rows = {}, {}
    for kind in ml.FLOWS:
        err = qb.errors(etas, kind, means)
        fits[kind] = ml.settled_slope(etas, err, floor)
        rows[kind] = _fit_dict(fits[kind], err)
    lead = {k: [float(np.linalg.norm(c)) for c in qb.series_coefficients(k)] for k in ml.FLOWS}
    data["quadratic"] = {"etas": etas.tolist(), "floor": floor.tolist(), "fits": rows, "m": qb.m, "leading": lead}
    kinds = {k: ml.FLOWS[k][2] for k in ml.FLOWS}
    expect = {"sgd": 3.0, "plain": 2.0, "gd": 2.0, "wrong": 2.0}
    return _slope_checks(f"quadratic, exact over all {qb.m}! orders", kinds, fits, expect,
                         "exact order average (subset recursion) vs matrix-exponential flows")


def _polynomial_c1(inst: ImplicitRegInstance, data: dict, settings: Settings) -> list[Check]:
    if inst.poly is None:
        return []
    import mpmath

    pb = inst.polynomial()
    etas = np.array(inst.poly_etas)
    settings.step(f"1-D polynomial: {len(etas)} learning rates x {len(ml.FLOWS)} flows in mpmath")
    with mpmath.workdps(MP_DPS):
        old = ml.MP_DPS
        ml.MP_DPS = MP_DPS
        try:
            means = [pb.epoch_mean(e) for e in etas]
            fits, rows = {}, {}
            for kind in ml.FLOWS:
                err = pb.errors(etas, kind, means)
                fits[kind] = ml.settled_slope(etas, err, np.full(etas.size, POLY_FLOOR))
                rows[kind] = _fit_dict(fits[kind], err)
        finally:
            ml.MP_DPS = old
    data["polynomial"] = {"etas": etas.tolist(), "fits": rows, "m": pb.m}
    kinds = {k: ml.FLOWS[k][2] for k in ml.FLOWS}
    expect = {"sgd": 3.0, "plain": 2.0, "gd": 2.0, "wrong": 2.0}
    return _slope_checks(f"1-D quartic (non-quadratic), all {pb.m}! orders", kinds, fits, expect,
                         f"mpmath ({MP_DPS} digits) orders and Taylor-series ODE flows")


def _composition_c1(inst: ImplicitRegInstance, data: dict) -> list[Check]:
    qb = inst.quadratic()
    B = inst.batch_size
    etas = np.array(inst.etas)
    n = inst.problem.n
    means = [ml.composition_epoch_mean(qb, e, B) for e in etas]
    floor = qb.rounding_floor(etas)
    fits, rows = {}, {}
    wrong_factor = (n - 1) / (n - B) if n > B else 1.0
    for kind, factor in (("composition", 1.0), ("no_fpc", wrong_factor)):
        err = np.array([np.linalg.norm(means[k] - qb.composition_flow(e, B, factor=factor))
                        for k, e in enumerate(etas)])
        fits[kind] = ml.settled_slope(etas, err, floor)
        rows[kind] = _fit_dict(fits[kind], err)
    data["composition"] = {"etas": etas.tolist(), "fits": rows, "batch_size": B, "n": n}
    kinds = {"composition": "L + (eta/4)|grad L|^2 + (eta/4)((n-B)/(B(n-1))) Sigma (composition averaged)",
             "no_fpc": "the same with 1/B instead of (n-B)/(B(n-1)) (no finite-population factor)"}
    return _slope_checks(f"random composition (n = {n}, B = {B}), exact over all partitions and orders", kinds,
                         fits, {"composition": 3.0, "no_fpc": 2.0}, "exact average over partitions")


def simulate_order_pairs(qb: ml.QuadraticBatches, etas, n_pairs: int, seed, seed_key) -> np.ndarray:
    """(pairs, len(etas), 2d) end displacements for a uniform order and its reverse (Numba kernel)."""
    etas = np.asarray(etas, dtype=np.float64)
    rng = path_states(_seed_sequence(seed, seed_key), 0, check_int(n_pairs, "n_pairs", 2))
    out = np.zeros((n_pairs, etas.size, 2 * qb.d))
    epoch_order_pairs(np.ascontiguousarray(qb.G), np.ascontiguousarray(qb.H), etas, rng, out)
    return out


def _planned_mean_c1(qb: ml.QuadraticBatches, etas, data: dict, settings: Settings) -> list[Check]:
    """The order average at eta_p = MEAN_ETA_FACTOR x the largest Monte Carlo eta (capped to a quarter of the
    small-step limit), against the exact average, with the near control "the residual is its leading term
    C3 eta^3" (one order lower; the eta^4 term is a few % of the residual there).  Pairs planned: a pilot
    (MEAN_PILOT pairs, its own seed stream) gives the per-pair sd, and P = (q sd PLAN / gap)^2 in full mode (a
    quarter in quick mode), q the normal quantile at the level, so that the control sits PLAN_HALF_WIDTHS
    planned half-widths away in full mode."""
    eta = float(min(MEAN_ETA_FACTOR * etas[-1], 0.25 * MAX_ETA_CURVATURE / qb.max_curvature))
    d = qb.d
    _, C3 = qb.series_coefficients("sgd")
    u = C3 / np.linalg.norm(C3)
    flow = qb.flow(eta, "sgd")
    pred = float(u @ (qb.epoch_mean(eta) - flow))
    lead = float(u @ C3) * eta**3
    gap = abs(lead - pred)
    if not gap > 0:
        return []

    def pair_means(n, key):
        raw = simulate_order_pairs(qb, [eta], n, settings.seed, key)
        return (0.5 * (raw[:, 0, :d] + raw[:, 0, d:]) - flow) @ u

    settings.step(f"Monte Carlo over orders at eta = {eta:.3g}: pilot")
    sd = float(np.std(pair_means(MEAN_PILOT, (SEED, 0xF1)), ddof=1))
    q = float(special.ndtri(0.5 + 0.5 * settings.level))
    planned = (q * sd * PLAN_HALF_WIDTHS / gap) ** 2 / (4.0 if settings.quick else 1.0)
    P = int(min(MAX_MEAN_PAIRS, max(MEAN_PILOT, np.ceil(planned))))
    settings.step(f"Monte Carlo over orders at eta = {eta:.3g}: {P} planned pairs")
    est = replica_interval(pair_means(P, (SEED, 2)), settings.level)
    note = (f"u.(E[delta_m] - delta~_SGD) at eta = {eta:.3g}: exact order average {pred:.6g}, leading term C3 eta^3 = "
            f"{lead:.6g}; {P} antithetic pairs, planned (pilot sd {sd:.3g}) so that the leading term sits "
            f"{PLAN_HALF_WIDTHS:g} half-widths away in full mode")
    data["planned_mean"] = {"eta": eta, "pairs": P, "exact": pred, "leading": lead, "estimate": est.to_dict()}
    return [Check(f"Monte Carlo mean over orders = exact order average (m = {qb.m}, eta = {eta:.3g}, planned pairs)",
                  CLAIM, pred, est, MC_MEAN_RES * abs(pred), note, main=True),
            Check(f"control: the residual is its leading term C3 eta^3 (one order lower; m = {qb.m}, eta = {eta:.3g})",
                  NEGATIVE_CONTROL, lead, est, MC_MEAN_RES * abs(pred), note),
            Check(f"control: Monte Carlo mean over orders = plain gradient flow (m = {qb.m}, eta = {eta:.3g})",
                  NEGATIVE_CONTROL, float(u @ (qb.flow(eta, "plain") - flow)), est, MC_MEAN_RES * abs(pred), note)]




# -- the Monte Carlo over orders, as a derivation -------------------------------------------------------------

_QB: dict = {}


def _mc_batches(inst) -> tuple:
    """(QuadraticBatches of the Monte Carlo partition, u = C3/|C3|, |C3|), per instance."""
    if id(inst) not in _QB:
        qb = inst.quadratic(inst.mc_batches)
        _, C3 = qb.series_coefficients("sgd")
        _QB[id(inst)] = (inst, qb, C3 / np.linalg.norm(C3), float(np.linalg.norm(C3)))
    return _QB[id(inst)][1:]


def _leading(p) -> float:
    """|C3| eta^3: the leading term of u.(E[delta_m] - delta~_SGD(m eta))."""
    return _mc_batches(p["instance"])[2] * p["eta"] ** 3


def _residual(kind: str):
    """u.(delta~_kind - delta~_SGD)(m eta): what the residual would be if the flow ``kind`` were E[w_m]'s."""
    def f(p):
        qb, u, _ = _mc_batches(p["instance"])
        return float(u @ (qb.flow(p["eta"], kind) - qb.flow(p["eta"], "sgd")))
    return f


def _pair_residuals(p, n_paths, seed_seq):
    """One value per independent antithetic pair: u.(mean of delta_m over (pi, reverse pi) - delta~_SGD(m eta))."""
    qb, u, _ = _mc_batches(p["instance"])
    raw = simulate_order_pairs(qb, [p["eta"]], n_paths, seed_seq, ())
    d = qb.d
    return (0.5 * (raw[:, 0, :d] + raw[:, 0, d:]) - qb.flow(p["eta"], "sgd")) @ u


def _exact_checks(inst, settings):
    """The family module's exact checks and the planned Monte Carlo mean, unchanged; their data for the figure."""
    data: dict = {}
    settings.step("SymPy backward error analysis")
    checks = _symbolic_checks_c1(inst, data)
    settings.step("exact enumeration over orders (quadratic)")
    checks += _enumeration_c1(inst, data)
    checks += _polynomial_c1(inst, data, settings)
    settings.step("composition variant (exact over partitions)")
    checks += _composition_c1(inst, data)
    qb = inst.quadratic(inst.mc_batches)
    if qb.m <= ml.MAX_EXACT_M:
        _, u, _ = _mc_batches(inst)
        data["mc_exact"] = [float(u @ (qb.epoch_mean(e) - qb.flow(e, "sgd"))) for e in inst.mc_etas]
        checks += _planned_mean_c1(qb, np.array(inst.mc_etas), data, settings)
    data["closing_note"] = closing_note(checks)
    return checks, data


def _figure(result, outdir) -> list[str]:
    """The family's figure.  Panel (c): the measured residual u.(E[delta_m] - delta~_SGD) per eta with its interval
    and, for m <= 12, the exact order average; and the same samples against the plain and GD-only flows,
    u.(E[delta_m] - delta~_control) = the residual + u.(delta~_SGD - delta~_control) (a known shift per eta)."""
    from ..figures.implicit_regularisation import figure_c1
    from ..stats import loglog_slope

    d = result.data
    rows = d["rows"]
    etas = np.array([r["params"]["eta"] for r in rows])
    est = [r["estimate"] for r in rows]
    mean = np.array([e["value"] for e in est])
    low = np.array([e["low"] for e in est])
    high = np.array([e["high"] for e in est])
    se = (high - low) / 2

    def row(shift, exact_values):
        m, lo, hi = mean + shift, low + shift, high + shift
        if np.all(m < 0):
            m, lo, hi = -m, -hi, -lo
        slope = loglog_slope(etas, m, se).slope.to_dict() if np.all(m > 0) else {"value": float("nan")}
        return {"mean": m.tolist(), "low": lo.tolist(), "high": hi.tolist(), "slope": slope, "exact": exact_values}

    mc_rows = {"sgd": row(0.0, d.get("mc_exact"))}
    for kind in ("plain", "gd"):
        mc_rows[kind] = row(-np.array([r["controls"].get(ml.FLOWS[kind][2], np.nan) for r in rows]), None)
    d["monte_carlo"] = {"etas": etas.tolist(), "m": result.parameters.get("mc_m"), "pairs": [r["paths"] for r in rows],
                        "rows": mc_rows}
    return figure_c1(result, outdir)


def _grid(inst) -> dict:
    return {"eta": list(inst.mc_etas)}


C1 = Derivation(
    id="C1",
    title="Smith et al. (2021): mean SGD iterate under random shuffling follows the flow of "
          "L + (eta/4m) sum_k |grad L_k|^2 to O(m^3 eta^3)",
    source="002 (Huszár, lecture 4, 'Implicit regularization in SGD'), 000; Smith, Dherin, Barrett & De, ICLR 2021",
    statement="E[w_m] = w(m eta) + O(m^3 eta^3), w' = -grad L~_SGD, L~_SGD = L + (eta/4)|grad L|^2 + "
              "(eta/4m) sum_k |grad L_k - grad L|^2; the plain flow is off by O(m^2 eta^2)",
    kind="rate",
    prediction=_leading,
    measure=Measure(statistic=_pair_residuals),
    grid=_grid,
    small="eta",
    order=1,
    resolution=0.02,
    controls={ml.FLOWS[k][2]: _residual(k) for k in ("plain", "gd", "wrong")},
    instance=default_instance,
    from_config=instance_from_config,
    extra_checks=_exact_checks,
    figure=_figure,
    figure_name="fig_c1_modified_loss",
    derivation=_derive,
)

register(C1.to_claim())
