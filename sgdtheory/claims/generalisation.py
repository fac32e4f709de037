"""Claim D11: adaptive methods can generalise worse (Wilson, Roelofs, Stern, Srebro & Recht, NeurIPS 2017,
"The Marginal Value of Adaptive Gradient Methods in Machine Learning", Section 3.3 and Lemma 3.1; cited by
seed 000 "But is Adam good at learning?", seed 002 "How good is Adam?" and seed 004's bibliography).

Their constructed binary least-squares problem (``theory.adaptive.wilson_design``): n examples with labels
y_i = 1 with probability p > 1/2, else -1; features x_i1 = y_i, x_i2 = x_i3 = 1, then a block of features
unique to example i -- one if y_i = 1, five if y_i = -1 -- so d = 3 + 5n > n and the least-squares problem
L(w) = (1/2n) sum_i (x_i.w - y_i)^2 has infinitely many interpolating solutions.  (The construction was taken
from the paper as we recall it; the stored reference corpus did not contain the paper's text to check it
against.  ``wilson_design`` states it exactly.)  The training set is part of the instance, drawn from a fixed
stream (the measurement seed drives SGD's order and the fresh test examples), conditioned on n_+ > n_- so
that no entry of X^T y vanishes.

Predictions (exact linear algebra):

* GD and SGD from w = 0 stay in the row space of X, so they converge to the minimum-norm interpolant
  w_mn = X^T (X X^T)^(-1) y (pseudo-inverse);
* AdaGrad, RMSProp and Adam from 0 (full batch) keep w proportional to u = sign(X^T y) (Lemma 3.1: the
  gradient X^T(X w - y)/n stays proportional to X^T y because X u = 4y here), and converge to u/4;
* on a fresh example (its unique features unseen, weight 0) the score is w1 y + w2 + w3: the adaptive
  solution predicts +1 for every new point (score (y + 2)/4 > 0), so its test error is exactly P(y = -1)
  = 1 - p; the minimum-norm solution's test error follows from its first three weights
  (``theory.adaptive.test_error``; for the default instance it is 0 -- Wilson et al. report that SGD
  generalises perfectly here).

Measurements: each method is run (numpy; the package optimizers' ``reference_step`` for the adaptive
ones), its distance to each predicted solution is computed, and its test error is measured on fresh
samples with a Clopper-Pearson interval (``stats.proportion_interval``).  Negative controls: "the adaptive
solution is the minimum-norm one", "the adaptive test error equals GD's", "GD's test error is 1 - p", and
the near one, "the adaptive test error is the training set's negative fraction n_-/n" (the empirical class
balance for the population's), posed as a control when the plan (binomial variance at 1 - p) puts it >= 2.5
half-widths from the prediction, else as an approximation.

Why numpy and not the engine (issue 13, item 10): the engine's problems need a unique minimiser
(``LinearRegression`` requires X of full column rank), and this problem is over-parameterised (d = 3 + 5n > n,
infinitely many interpolants) -- which is the point of the construction.  The runs use the package optimizers'
``reference_step`` (bit-identical to the Numba kernels, tests/test_optimizers_adaptive.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, check_float, check_int
from ..optimizers import AdaGrad, Adam, RMSProp
from ..stats import exact, proportion_interval
from ..theory import adaptive as th
from .base import APPROXIMATION, CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, planned_expectation, register

METHODS = ("GD", "SGD", "AdaGrad", "RMSProp", "Adam")
#: the seed of the training set (part of the instance; the catalogue's default seed)
TRAINING_SEED = 20261123


@dataclass(frozen=True)
class WilsonInstance:
    """n training examples, P(y = 1) = p; learning rates of the methods; number of fresh test examples."""

    n: int = 30
    p: float = 0.75
    gd_lr: float = 0.5
    sgd_lr: float = 0.1
    adagrad_lr: float = 0.05
    rmsprop_lr: float = 0.001
    adam_lr: float = 0.001
    n_test: int = 200_000
    name: str = "default"

    def __post_init__(self):
        check_int(self.n, "n", 3, 400)
        check_float(self.p, "p", 0.5, 1.0)
        check_float(self.gd_lr, "gd_lr", 0.0, None)
        check_float(self.sgd_lr, "sgd_lr", 0.0, 2.0 / 8.0)  # |x_i|^2 <= 8: the per-example stability limit
        for key in ("adagrad_lr", "rmsprop_lr", "adam_lr"):
            check_float(getattr(self, key), key, 0.0, 1.0)
        check_int(self.n_test, "n_test", 100, 10**8)

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "p": self.p, "gd_lr": self.gd_lr, "sgd_lr": self.sgd_lr,
                "adagrad_lr": self.adagrad_lr, "rmsprop_lr": self.rmsprop_lr, "adam_lr": self.adam_lr,
                "n_test": self.n_test}


def default_instance() -> WilsonInstance:
    return WilsonInstance()


_FIELDS = {"n", "p", "gd_lr", "sgd_lr", "adagrad_lr", "rmsprop_lr", "adam_lr", "n_test"}


@schema('D11', {
    "problem": {"name": "str", "n": "int", "p": "num"},
    "experiment": {
        "gd_lr": "num", "sgd_lr": "num", "adagrad_lr": "num", "rmsprop_lr": "num", "adam_lr": "num",
        "n_test": "int"
    },
})
def instance_from_config(cfg: dict) -> WilsonInstance:
    """[problem] n, p; [experiment] gd_lr, sgd_lr, adagrad_lr, rmsprop_lr, adam_lr, n_test."""
    prob, exp = cfg.get("problem", {}), cfg.get("experiment", {})
    for sec, fields, valid in (("problem", prob, {"name", "n", "p"}), ("experiment", exp, _FIELDS - {"n", "p"})):
        unknown = set(fields) - valid
        if unknown:
            raise ConfigError(f"{sec}.{sorted(unknown)[0]}: unknown field; valid: {', '.join(sorted(valid))}")
    kw = {k: v for k, v in prob.items() if k != "name"}
    kw.update(exp)
    try:
        return WilsonInstance(name=prob.get("name", "user"), **kw)
    except SgdTheoryError as exc:
        sec = "problem" if str(exc).split(" ")[0].rstrip(":") in ("n", "p") else "experiment"
        raise ConfigError(f"{sec}.{exc}") from None


def train(X, y, method: str, inst: WilsonInstance, n_steps: int, rng: np.random.Generator | None = None,
          tol: float = 1e-10) -> tuple[np.ndarray, int]:
    """Run ``method`` from w = 0 on L(w) = (1/2n)|Xw - y|^2 until max_i |x_i.w - y_i| <= tol or ``n_steps``;
    returns (w, steps taken).  Full batch, except SGD (one example per step, with replacement).

    The stopping rule matters for RMSProp and Adam with a constant step: once the residual is at rounding
    level their v decays like beta2^t and the effective step lr/(sqrt(v) + eps) grows towards lr/eps, so
    rounding-level gradients are amplified and the iterate leaves the interpolating solution (an
    O(lr) oscillation follows).  The claim is about the interpolating solution the methods reach."""
    n, d = X.shape
    w = np.zeros(d)
    if method == "SGD":
        idx = rng.integers(0, n, size=n_steps)
        for t, i in enumerate(idx, start=1):
            w = w - inst.sgd_lr * (X[i] @ w - y[i]) * X[i]
            if t % n == 0 and np.max(np.abs(X @ w - y)) <= tol:
                return w, t
        return w, n_steps
    if method != "GD":
        opt, lr = {"AdaGrad": (AdaGrad(eps=1e-10), inst.adagrad_lr), "RMSProp": (RMSProp(beta=0.99, eps=1e-8), inst.rmsprop_lr),
                   "Adam": (Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True), inst.adam_lr)}[method]
        st = opt.init_state(d)
    for t in range(1, n_steps + 1):
        r = X @ w - y
        if np.max(np.abs(r)) <= tol:
            return w, t - 1
        g = X.T @ r / n
        if method == "GD":
            w = w - inst.gd_lr * g
        else:
            w, st = opt.reference_step(w, st, g, lr)
    return w, n_steps


def run_d11(inst: WilsonInstance, settings: Settings) -> ClaimResult:
    lv = settings.level
    # the training set is the instance: drawn from a fixed stream, so the plan (and every role) is the same for every
    # measurement seed; the seed drives SGD's order and the fresh test examples
    rng = np.random.default_rng(np.random.SeedSequence(TRAINING_SEED, spawn_key=(0xD11, 0)))
    data = th.wilson_sample(inst.n, inst.p, rng)
    X, y = data.X, data.y
    w_mn = th.min_norm_solution(X, y)
    w_ad = th.adaptive_solution(X, y)
    u = np.sign(X.T @ y)
    steps = {"GD": 20_000, "SGD": 20_000 * inst.n, "AdaGrad": 20_000, "RMSProp": 20_000, "Adam": 20_000}  # caps
    settings.step("D11: training GD, SGD, AdaGrad, RMSProp, Adam on Wilson et al.'s problem (numpy)")
    runs = {m: train(X, y, m, inst, steps[m], np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(0xD11, 1))))
            for m in METHODS}
    sols = {m: runs[m][0] for m in METHODS}
    steps = {m: runs[m][1] for m in METHODS}
    n_test = inst.n_test if not settings.quick else min(inst.n_test, 50_000)
    y_test = np.where(np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(0xD11, 2))).random(n_test) < inst.p,
                      1.0, -1.0)
    err_mn, err_ad = th.test_error(w_mn, inst.p), th.test_error(w_ad, inst.p)
    checks = [Check("Lemma 3.1 setting: X sign(X^T y) = 4 y, so sign(X^T y)/4 interpolates (max |X u/4 - y|)", CLAIM, 0.0,
                    exact(float(np.max(np.abs(X @ w_ad - y))), "float64", abs_tol=1e-14), 1e-12,
                    f"n = {inst.n}, n_+ = {data.n_pos}, d = {X.shape[1]}")]
    for m in ("GD", "SGD"):
        rel = float(np.linalg.norm(sols[m] - w_mn) / np.linalg.norm(w_mn))
        checks.append(Check(f"{m} from 0 reaches the minimum-norm solution X^+ y: |w - w_mn|/|w_mn|",
                            CLAIM, 0.0, exact(rel, "deterministic run" if m == "GD" else "one seeded run", abs_tol=1e-6),
                            1e-5, f"{steps[m]} steps; training loss {0.5 * np.mean((X @ sols[m] - y) ** 2):.2g}; tolerance 1e-6 (finite run)"))
    for m in ("AdaGrad", "RMSProp", "Adam"):
        lam = float(sols[m] @ u / (u @ u))
        rel = float(np.linalg.norm(sols[m] - lam * u) / np.linalg.norm(lam * u))
        checks.append(Check(f"{m} from 0: w = lambda sign(X^T y) (Lemma 3.1), |w - lambda u|/|lambda u|",
                            CLAIM, 0.0, exact(rel, "deterministic run", abs_tol=1e-6), 1e-5,
                            f"{steps[m]} steps; lambda = {lam:.6f} (interpolation: 1/4; a constant step leaves an O(lr) oscillation); "
                            f"|w - u/4|/|u/4| = {np.linalg.norm(sols[m] - w_ad) / np.linalg.norm(w_ad):.2g}; eps > 0 "
                            "perturbs proportionality at the eps/|g| level"))
    cos = float(sols["Adam"] @ u / (np.linalg.norm(sols["Adam"]) * np.linalg.norm(u)))
    mn_dist = float(np.linalg.norm(sols["Adam"] - w_mn) / np.linalg.norm(w_mn))
    checks.append(Check("control: Adam's solution is the minimum-norm one, |w_Adam - X^+ y|/|X^+ y|", NEGATIVE_CONTROL, 0.0,
                        exact(mn_dist, "deterministic run", abs_tol=1e-4), 1e-3,
                        f"cos(w_Adam, sign(X^T y)) = {cos:.12f}"))
    errs = {}
    for m in METHODS:
        k = th.predict_errors(sols[m], y_test)
        errs[m] = proportion_interval(k, n_test, lv)
        pred = err_mn if m in ("GD", "SGD") else err_ad
        checks.append(Check(f"{m}: test error on {n_test} fresh examples = {'the minimum-norm' if m in ('GD', 'SGD') else 'the adaptive'} "
                            f"prediction {pred:.4g}", CLAIM, pred, errs[m], 0.01, main=(m == "Adam"), note=
                            "Clopper-Pearson; resolution 0.01" + ("; adaptive: predicts +1 everywhere, error = P(y = -1) = 1 - p"
                                                                  if m not in ("GD", "SGD") else
                                                                  f"; w_mn[:3] = {np.array2string(w_mn[:3], precision=4)}")))
    checks.append(Check(f"control: the adaptive test error equals GD's ({err_mn:.4g}), Adam", NEGATIVE_CONTROL, err_mn,
                        errs["Adam"], 0.01, "Clopper-Pearson; resolution 0.01 (far)"))
    # the near control, fixed from the training set and the planned binomial interval before the test draw: the
    # adaptive classifier's test error read as its training-set class fraction n_-/n instead of P(y = -1) = 1 - p
    frac = 1.0 - data.n_pos / inst.n
    gap = abs(frac - err_ad)
    hw_plan = float(special.ndtri(0.5 + 0.5 * lv)) * np.sqrt(err_ad * (1 - err_ad) / n_test)
    near = gap >= 2.5 * hw_plan
    in_half_widths = gap / hw_plan if hw_plan > 0 else float("inf")  # hw_plan = 0 when err_ad is 0 or 1
    checks.append(Check("control: Adam's test error is the training set's negative fraction n_-/n",
                        NEGATIVE_CONTROL if near else APPROXIMATION, frac, errs["Adam"], 0.01,
                        f"n_-/n = {frac:.4g}: the empirical class balance for the population's; {in_half_widths:.1f} planned half-widths "
                        "(binomial variance at 1 - p) from the prediction" + ("" if near else
                                                                             ": too near to be a control here"),
                        expect=None if near else planned_expectation(gap, hw_plan)))
    checks.append(Check(f"control: GD's test error is the adaptive one, 1 - p = {1 - inst.p:.4g}", NEGATIVE_CONTROL, err_ad,
                        errs["GD"], 0.01, "Clopper-Pearson; resolution 0.01"))
    out = {"n": inst.n, "n_pos": data.n_pos, "d": int(X.shape[1]), "p": inst.p, "n_test": n_test,
           "pred_error": {"min_norm": err_mn, "adaptive": err_ad},
           "test_error": {m: errs[m].to_dict() for m in METHODS},
           "w_min_norm": w_mn.tolist(), "w_adaptive": w_ad.tolist(), "solutions": {m: sols[m].tolist() for m in METHODS},
           "y": y.tolist()}
    return ClaimResult("D11", checks, inst.describe(), out)


def _derive(inst, latex=False):
    text = "\n".join([
        "D11 (Wilson et al. 2017, Section 3.3): x_i = (y_i, 1, 1, unique block: 1 feature if y_i = 1, 5 if y_i = -1)",
        "  X X^T = y y^T + 2 11^T + diag(k_i), k_i in {1, 5}: invertible, so w_mn = X^T (X X^T)^(-1) y",
        "  u = sign(X^T y) = (1, 1, 1, sign(y_i) on i's block) when n_+ > n_-;  (X u)_i = y_i + 2 + k_i y_i = 4 y_i",
        "  adaptive iterates w_t = lambda_t u (the gradient (4 lambda_t - 1) X^T y/n keeps its sign pattern) -> u/4",
        "  fresh example: score w1 y + w2 + w3 = (y + 2)/4 > 0 for the adaptive solution: test error 1 - p",
        f"  default instance: {th.derive().wilson_Xu and 'X u = 4y checked on a sample'}",
    ])
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(result, outdir):
    from ..figures import generalisation as fg

    return fg.figure_d11(result, outdir)


register(Claim("D11", "Adaptive methods generalise worse on Wilson et al.'s least-squares construction",
               "000 'But is Adam good at learning?', 002, 004; Wilson et al. 2017, Section 3.3, Lemma 3.1",
               "GD/SGD -> minimum-norm solution (test error 0 here); AdaGrad/RMSProp/Adam -> sign(X^T y)/4 "
               "(test error 1 - p)", "equality", run_d11, _derive, _figure, default_instance, instance_from_config))
