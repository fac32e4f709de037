"""Claims D1, D2, D4, D5 (D3: ``d3_narrow_valley``): momentum and Nesterov's accelerated gradient (seeds 000, 001, 003; Polyak 1964; Lessard, Recht
& Packard 2016; Nesterov 1983).  The math is in ``theory/momentum.py``.

D1 (001, "Momentum gradient descent"): m_t = mu m_(t-1) + gamma grad L(theta_t), theta_(t+1) = theta_t - m_t is
   theta_(t+1) = theta_t - gamma sum_k mu^k grad L(theta_(t-k)).  SymPy (symbolic gradients, T steps) and
   path-wise on the engine's noisy paths: the engine's ``HeavyBall`` steps against the weighted sums of the
   gradients that path saw (to rounding).  Control: weights mu^(k+1).
D2 (000 "Momentum"; 003 "Momentum", "A Reparameterization"): the EMA form with lr eta is heavy ball with lr
   eta (1 - beta); McAllester's v_t = N eta mu_t.  SymPy induction step and path-wise on the engine's noisy
   paths.  Controls: heavy ball at lr eta; Phi -= eta mu_t (the N dropped).
D3 (000, 001 "narrow valley"): one claim per file on the public API, ``claims/d3_narrow_valley.py`` (it uses this
   module's instance and config format).
D4 (001 "Momentum can fail to converge even for simple convex optimizations"; Lessard et al. 2016, their
   heavy-ball counterexample; section/equation numbers unverified): heavy ball with Polyak's tuning on their piecewise quadratic has an attracting 3-cycle (found exactly,
   every periodic orbit of period <= P enumerated), reached from their starts x0 in [3.07, 3.46]; NAG (1/L,
   (sqrt kappa - 1)/(sqrt kappa + 1)) converges from every start of a grid.  Control: "heavy ball converges".
D5 (001 "Nesterov's momentum", quiz): the look-ahead form, the quiz's completion, PyTorch's form (the engine's
   ``Nesterov``) and the two-sequence form give identical iterates (SymPy, generic oracle; engine paths);
   on a smooth convex quadratic with log-uniform spectrum, fitted log-log slopes of f(x_k) - f*: -1 for GD,
   -2 for NAG.  Controls: the quiz completed as heavy ball; slope -1 for NAG and -2 for GD.

Deterministic checks use ``stats.exact`` with a stated allowance: rounding (1e-9 relative) for the identities,
and for a fitted rate or slope on [K/2, K] the settling allowance 3 |fit[K/2, K] - fit[K/4, K/2]| (if the fit
still drifts like K^-p, the remaining drift is |change|/(2^p - 1) <= 3 |change| for p >= 0.42; the observed
drifts are O(1/K) and O(K^-1/2)).  The Monte Carlo checks of D3 use independent paths (time averages per
path, Student-t over paths).  The path-wise identity checks (D1, D2, D5) use common random numbers: the
Gaussian-noise problem draws exactly d normals per step from the path's own stream, so the engine's SGD,
HeavyBall and Nesterov runs with the same (seed, seed_key) see the same noise xi_t, which is recovered from
the SGD run as xi_t = (delta_t - delta_(t+1))/lr - H delta_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..config import schema
from ..errors import ConfigError, SgdTheoryError, as_float_array, check_float, check_int
from ..optimizers import SGD, HeavyBall, Nesterov
from ..problems import GaussianNoiseQuadratic
from ..simulate import simulate
from ..stats import exact
from ..theory import momentum as th
from .base import CLAIM, NEGATIVE_CONTROL, Check, Claim, ClaimResult, Settings, register

SEED = 0xD0
#: rounding allowance of the path-wise identities (relative to the largest step of the path)
ROUNDING = 1e-9
#: resolution of the exact identity checks
RES_IDENTITY = 1e-8
#: fitted log-log slopes of D5
RES_SLOPE = 0.1
#: D4: start grid and horizon; an iterate "is" on the cycle / at 0 within this distance
D4_TOL = 1e-8


@dataclass(frozen=True, eq=False)
class MomentumInstance:
    """One instance for D1-D5.

    H, C, w_star: the noisy quadratic L = (w - w*).H(w - w*)/2 with gradient noise N(0, C) (D1, D2, D5 identity
    paths; D3 with mu = lambda_min(H), L = lambda_max(H), kappa = L/mu).  w0: start of the identity paths and of
    D3's decay runs (default w* + (1, ..., 1)).  momentum, lr: heavy ball / Nesterov of the identity paths.
    N: McAllester's horizon (D2).  lessard_mu, lessard_L, max_period: D4.  convex_d, convex_lambda_min,
    convex_L: D5's convex quadratic (log-uniform eigenvalues).
    """

    H: np.ndarray
    C: np.ndarray
    w_star: np.ndarray | None = None
    w0: np.ndarray | None = None
    momentum: float = 0.9
    lr: float = 0.01
    N: int = 10
    lessard_mu: float = 1.0
    lessard_L: float = 25.0
    max_period: int = 4
    convex_d: int = 2000
    convex_lambda_min: float = 1e-14
    convex_L: float = 1.0
    name: str = "default"

    def __post_init__(self):
        prob = GaussianNoiseQuadratic(self.H, self.C, self.w_star)  # validates H (SPD), C (PSD), w_star
        object.__setattr__(self, "H", prob.H)
        object.__setattr__(self, "C", prob.C)
        object.__setattr__(self, "w_star", prob.w_star)
        d = prob.d
        if np.trace(prob.C) <= 0:
            raise SgdTheoryError("C: must be non-zero (D3 measures the stationary error under gradient noise)")
        w0 = prob.w_star + 1.0 if self.w0 is None else as_float_array(self.w0, "w0", 1)
        if w0.shape != (d,):
            raise SgdTheoryError(f"w0: expected shape ({d},), got {w0.shape}")
        if np.allclose(w0, prob.w_star):
            raise SgdTheoryError("w0: must differ from w_star (the decay runs start away from the minimiser)")
        object.__setattr__(self, "w0", w0)
        m = check_float(self.momentum, "momentum", 0.0, 1.0)
        object.__setattr__(self, "momentum", m)
        lam = np.linalg.eigvalsh(prob.H)
        limit = 2 * (1 + m) / ((1 + 2 * m) * lam[-1])  # Nesterov's limit (the smaller one)
        object.__setattr__(self, "lr", check_float(self.lr, "lr", 0.0, limit))
        object.__setattr__(self, "N", check_int(self.N, "N", 2, 10**6))
        if self.lr * lam[-1] >= 2 * (2 - 1 / self.N):
            raise SgdTheoryError(f"N = {self.N} is out of range: heavy ball (momentum 1 - 1/N) at lr = {self.lr:g} is "
                                 f"unstable; need lr lambda_max < 2 (2 - 1/N)")
        if lam[-1] / lam[0] < 4.0 or lam[-1] / lam[0] > 1e4:
            raise SgdTheoryError(f"H: condition number {lam[-1] / lam[0]:.4g} is out of range: valid range is [4, 1e4] "
                                 "(D3 contrasts the two rates in a narrow valley)")
        lm = check_float(self.lessard_mu, "lessard_mu", 0.0)
        object.__setattr__(self, "lessard_mu", lm)
        object.__setattr__(self, "lessard_L", check_float(self.lessard_L, "lessard_L", lm))
        object.__setattr__(self, "max_period", check_int(self.max_period, "max_period", 2, 6))
        object.__setattr__(self, "convex_d", check_int(self.convex_d, "convex_d", 100, 100_000))
        cl = check_float(self.convex_L, "convex_L", 0.0)
        object.__setattr__(self, "convex_L", cl)
        object.__setattr__(self, "convex_lambda_min", check_float(self.convex_lambda_min, "convex_lambda_min", 0.0,
                                                                  1e-10 * cl, high_open=False))

    @property
    def problem(self) -> GaussianNoiseQuadratic:
        return GaussianNoiseQuadratic(self.H, self.C, self.w_star, name=self.name)

    @property
    def d(self) -> int:
        return self.H.shape[0]

    @property
    def mu_L(self) -> tuple[float, float]:
        lam = np.linalg.eigvalsh(self.H)
        return float(lam[0]), float(lam[-1])

    @property
    def kappa(self) -> float:
        mu, L = self.mu_L
        return L / mu

    def describe(self) -> dict:
        mu, L = self.mu_L
        return {"name": self.name, "d": self.d, "H": self.H.tolist(), "C": self.C.tolist(),
                "w_star": self.w_star.tolist(), "w0": self.w0.tolist(), "mu": mu, "L": L, "kappa": L / mu,
                "momentum": self.momentum, "lr": self.lr, "N": self.N, "lessard_mu": self.lessard_mu,
                "lessard_L": self.lessard_L, "max_period": self.max_period, "convex_d": self.convex_d,
                "convex_lambda_min": self.convex_lambda_min, "convex_L": self.convex_L}


def default_instance() -> MomentumInstance:
    """A 3-d narrow valley: eigenvalues 1, 10, 100 (kappa = 100) in a rotated frame, noise C = diag(1, 0.5, 0.25)
    rotated differently; momentum 0.9 at lr 0.01 (identity paths); McAllester N = 10; Lessard mu = 1, L = 25;
    D5 on 2000 log-uniform eigenvalues in [1e-14, 1]."""
    c, s = np.cos(0.6), np.sin(0.6)
    R1 = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    c2, s2 = np.cos(0.9), np.sin(0.9)
    R2 = np.array([[1.0, 0.0, 0.0], [0.0, c2, -s2], [0.0, s2, c2]])
    Q = R1 @ R2
    H = Q @ np.diag([1.0, 10.0, 100.0]) @ Q.T
    C = R2 @ np.diag([1.0, 0.5, 0.25]) @ R2.T
    return MomentumInstance(H, C, w_star=np.array([1.0, -1.0, 0.5]), name="3-d narrow valley (kappa = 100)")


_PROBLEM = ("H", "C", "w_star", "name")
_EXPERIMENT = ("w0", "momentum", "lr", "N", "lessard_mu", "lessard_L", "max_period", "convex_d", "convex_lambda_min",
               "convex_L")


@schema('D1-D5', {
    "problem": {"H": "*num[][]", "C": "*num[][]", "w_star": "num[]", "name": "str"},
    "experiment": {
        "w0": "num[]", "momentum": "num", "lr": "num", "N": "int", "lessard_mu": "num", "lessard_L": "num",
        "max_period": "int", "convex_d": "int", "convex_lambda_min": "num", "convex_L": "num"
    },
})
def instance_from_config(cfg: dict) -> MomentumInstance:
    """[problem] H, C (d x d), w_star, name; [experiment] w0, momentum, lr, N (D1, D2, D5 identity paths),
    lessard_mu, lessard_L, max_period (D4), convex_d, convex_lambda_min, convex_L (D5).  Unknown fields are
    rejected, naming the field."""
    prob = cfg.get("problem")
    if not isinstance(prob, dict):
        raise ConfigError("problem: missing section [problem] (H and C)")
    exp = dict(cfg.get("experiment") or {})
    for sec, allowed, got in (("problem", _PROBLEM, prob), ("experiment", _EXPERIMENT, exp)):
        unknown = sorted(set(got) - set(allowed))
        if unknown:
            raise ConfigError(f"{sec}.{unknown[0]}: unknown field for D1-D5; valid: {', '.join(allowed)}")
    for k in ("H", "C"):
        if k not in prob:
            raise ConfigError(f"problem.{k}: required for D1-D5")
    try:
        return MomentumInstance(prob["H"], prob["C"], prob.get("w_star"), name=str(prob.get("name", "user")), **exp)
    except SgdTheoryError as exc:
        msg = str(exc)
        head = msg.split(":")[0].split(" ")[0]
        raise ConfigError(f"{'experiment' if head in _EXPERIMENT else 'problem'}.{msg}") from None


# -- engine paths -------------------------------------------------------------------------------------------------


def _steps(settings: Settings) -> tuple[int, int]:
    """(steps, paths) of the identity paths."""
    return (200, 16) if settings.quick else (1000, 64)


def engine_trajectories(inst: MomentumInstance, optimizer, lr: float, n_steps: int, n_paths: int, seed,
                        seed_key) -> np.ndarray:
    """delta_t = w_t - w*, t = 0..n_steps, of the engine's paths, shape (paths, n_steps + 1, d) (record 'moments'
    at every step; the noise of a path depends only on (seed, seed_key, path), not on the optimizer: the
    Gaussian-noise problem draws d normals per step and nothing else)."""
    res = simulate(inst.problem, lr, optimizer=optimizer, n_steps=n_steps, n_paths=n_paths, seed=seed,
                   seed_key=seed_key, w0=inst.w0, record_steps=range(n_steps + 1), record=("moments",))
    res._require_ok()
    cols = [res.record_names.index(f"mean[{k}]") for k in range(inst.d)]
    return res.record_values[:, :, cols]


def engine_noise(inst: MomentumInstance, n_steps: int, n_paths: int, seed, seed_key) -> np.ndarray:
    """The noise xi_t each path drew, recovered from an engine SGD run with the same seeds:
    xi_t = (delta_t - delta_(t+1))/lr - H delta_t (lr = 1/lambda_max), shape (paths, n_steps, d)."""
    lr = 1.0 / inst.mu_L[1]
    D = engine_trajectories(inst, SGD(), lr, n_steps, n_paths, seed, seed_key)
    return (D[:, :-1] - D[:, 1:]) / lr - D[:, :-1] @ inst.H.T


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _sum_sq_check(name, predicted, measured) -> Check:
    """The headline of a path-wise identity as a nonzero number: sum |predicted|^2 against sum |measured|^2 (a
    consequence of the identity, to rounding), so that a 5% error in the prediction is rejected."""
    pred = float(np.sum(predicted * predicted))
    return Check(name, CLAIM, pred, exact(float(np.sum(measured * measured)), f"float64, rounding allowance {ROUNDING:g}",
                                          abs_tol=ROUNDING * pred), RES_IDENTITY * pred,
                 "the identity's consequence for the whole ensemble", main=True)


def _identity_check(name, role, value, note) -> Check:
    return Check(name, role, 0.0, exact(value, f"float64, rounding allowance {ROUNDING:g}", abs_tol=ROUNDING),
                 RES_IDENTITY, note)


# -- D1 -----------------------------------------------------------------------------------------------------------


def weighted_sum_steps(grads: np.ndarray, mu: float, gamma: float, power_shift: int = 0) -> np.ndarray:
    """gamma sum_(k=0..t) mu^(k + shift) g_(t-k) for every t (direct sums with the weight matrix, not the recursion);
    grads (paths, T, d) -> (paths, T, d)."""
    T = grads.shape[1]
    t = np.arange(T)
    lag = t[:, None] - t[None, :]
    W = np.where(lag >= 0, float(mu) ** np.clip(lag + power_shift, 0, None), 0.0)
    return gamma * np.einsum("ts,psd->ptd", W, grads)


def run_d1(inst: MomentumInstance, settings: Settings) -> ClaimResult:
    der = th.derive()
    T, P = _steps(settings)
    key = (SEED, 1)
    xi = engine_noise(inst, T, P, settings.seed, key)
    D = engine_trajectories(inst, HeavyBall(inst.momentum), inst.lr, T, P, settings.seed, key)
    grads = D[:, :-1] @ inst.H.T + xi
    steps = D[:, :-1] - D[:, 1:]
    right = weighted_sum_steps(grads, inst.momentum, inst.lr)
    wrong = weighted_sum_steps(grads, inst.momentum, inst.lr, power_shift=1)
    checks = [
        Check(f"SymPy: theta_T(recursion) - theta_T(gamma sum_k mu^k g_(t-k)) = 0, symbolic g_0..g_T, T = {der.T}",
              CLAIM, 0.0, exact(float(der.d1_difference != 0), "SymPy expand (1 = non-zero)"), 1e-9,
              "an identity for every gradient sequence"),
        Check("control (SymPy): weights mu^(k+1); is the difference non-zero? (0 = identity holds)", NEGATIVE_CONTROL,
              0.0, exact(float(der.d1_wrong_difference != 0), "SymPy expand (1 = non-zero)"), 1e-9,
              f"difference = {der.d1_wrong_difference}"),
        _identity_check(f"engine HeavyBall(mu = {inst.momentum:g}) steps = lr sum_k mu^k g_(t-k) on {P} noisy paths x {T} "
                        "steps (max relative difference)", CLAIM, _rel(steps, right),
                        "gradients g_t = H delta_t + xi_t with the path's own noise (recovered from an SGD run with "
                        "the same seeds)"),
        _identity_check("control: engine steps = lr sum_k mu^(k+1) g_(t-k) (max relative difference)", NEGATIVE_CONTROL,
                        _rel(steps, wrong), "the weights shifted by one power"),
        _sum_sq_check("sum over paths and steps of |engine step|^2 = that of lr sum_k mu^k g_(t-k)", right, steps),
    ]
    data = {"mu": inst.momentum, "lr": inst.lr, "T": T, "paths": P, "steps0": steps[0, :, 0].tolist(),
            "right0": right[0, :, 0].tolist(), "wrong0": wrong[0, :, 0].tolist(),
            "weights": [inst.momentum**k for k in range(40)], "wrong_weights": [inst.momentum ** (k + 1) for k in range(40)],
            "err_right": np.max(np.abs(steps - right), axis=(0, 2)).tolist(),
            "err_wrong": np.max(np.abs(steps - wrong), axis=(0, 2)).tolist()}
    return ClaimResult("D1", checks, inst.describe(), data)


# -- D2 -----------------------------------------------------------------------------------------------------------


def ema_path(inst: MomentumInstance, xi: np.ndarray, beta: float, eta: float) -> np.ndarray:
    """EMA form m <- beta m + (1 - beta) g, w -= eta m, g = H delta + xi_t (plain numpy), delta_0 = w0 - w*."""
    P, T, d = xi.shape
    D = np.empty((P, T + 1, d))
    x = np.tile(inst.w0 - inst.w_star, (P, 1))
    m = np.zeros((P, d))
    D[:, 0] = x
    for t in range(T):
        g = x @ inst.H.T + xi[:, t]
        m = beta * m + (1 - beta) * g
        x = x - eta * m
        D[:, t + 1] = x
    return D


def mcallester_path(inst: MomentumInstance, xi: np.ndarray, N: int, eta: float, scale: float | None = None) -> np.ndarray:
    """Seed 003's reparameterised form: mu_t = (1 - 1/N) mu_(t-1) + g_t/N, Phi_(t+1) = Phi_t - N eta mu_t
    (``scale`` replaces N eta: the control)."""
    P, T, d = xi.shape
    s = N * eta if scale is None else scale
    D = np.empty((P, T + 1, d))
    x = np.tile(inst.w0 - inst.w_star, (P, 1))
    m = np.zeros((P, d))
    D[:, 0] = x
    for t in range(T):
        g = x @ inst.H.T + xi[:, t]
        m = (1 - 1 / N) * m + g / N
        x = x - s * m
        D[:, t + 1] = x
    return D


def run_d2(inst: MomentumInstance, settings: Settings) -> ClaimResult:
    der = th.derive()
    T, P = _steps(settings)
    key = (SEED, 2)
    beta, eta, N = inst.momentum, inst.lr / (1 - inst.momentum), inst.N
    # EMA form at lr eta is heavy ball at lr eta (1 - beta) = inst.lr; the control runs heavy ball at lr eta,
    # which must itself be stable: the EMA form's own lr is chosen as inst.lr/(1 - beta)
    xi = engine_noise(inst, T, P, settings.seed, key)
    ema = ema_path(inst, xi, beta, eta)
    hb = engine_trajectories(inst, HeavyBall(beta), eta * (1 - beta), T, P, settings.seed, key)
    lam_max = inst.mu_L[1]
    ctrl_lr = min(eta, 0.99 * 2 * (1 + beta) / lam_max)
    hb_wrong = engine_trajectories(inst, HeavyBall(beta), ctrl_lr, T, P, settings.seed, key)
    mc = mcallester_path(inst, xi, N, inst.lr)
    hbN = engine_trajectories(inst, HeavyBall(1 - 1 / N), inst.lr, T, P, settings.seed, key)
    mc_wrong = mcallester_path(inst, xi, N, inst.lr, scale=inst.lr)
    checks = [
        Check("SymPy: one step from m = (1 - beta) v: w'(EMA, lr eta) - w'(HB, lr eta (1 - beta)) = 0 and "
              "m' = (1 - beta) v' (1 = non-zero)", CLAIM, 0.0,
              exact(float(der.d2_ema_step != 0 or der.d2_ema_state != 0), "SymPy simplify"), 1e-9,
              "induction step; m_0 = v_0 = 0 starts it"),
        Check("control (SymPy): heavy ball at lr eta; is w'(EMA) - w'(HB) non-zero? (1 = yes)", NEGATIVE_CONTROL, 0.0,
              exact(float(der.d2_wrong_lr != 0), "SymPy simplify"), 1e-9, f"difference = {der.d2_wrong_lr}"),
        Check("SymPy: McAllester v' - N eta mu' = 0 given v = N eta mu (1 = non-zero)", CLAIM, 0.0,
              exact(float(der.d2_mcallester != 0), "SymPy simplify"), 1e-9, "seed 003, 'A Reparameterization'"),
        Check("control (SymPy): v = eta mu (N dropped); non-zero? (1 = yes)", NEGATIVE_CONTROL, 0.0,
              exact(float(der.d2_mcallester_wrong != 0), "SymPy simplify"), 1e-9,
              f"difference = {der.d2_mcallester_wrong}"),
        _identity_check(f"EMA form (beta = {beta:g}, lr {eta:.4g}) = engine HeavyBall at lr eta (1 - beta) = {inst.lr:g}, "
                        f"{P} noisy paths x {T} steps (max relative difference of the iterates)", CLAIM, _rel(ema, hb),
                        "the same noise on both (common random numbers)"),
        _identity_check(f"control: EMA form = engine HeavyBall at lr {ctrl_lr:.4g} (eta, capped at 0.99 x the "
                        "stability limit)", NEGATIVE_CONTROL, _rel(ema, hb_wrong), "lr eta instead of eta (1 - beta)"),
        _identity_check(f"McAllester: Phi -= N eta mu_t (N = {N}) = engine HeavyBall(1 - 1/N) at lr eta = {inst.lr:g} "
                        "(max relative difference)", CLAIM, _rel(mc, hbN), "v_t = N eta mu_t along the path"),
        _identity_check("control: Phi -= eta mu_t (the N dropped) = engine HeavyBall(1 - 1/N)", NEGATIVE_CONTROL,
                        _rel(mc_wrong, hbN), "a plausible slip in the reparameterisation"),
        _sum_sq_check("sum over paths and steps of |delta_t|^2: EMA form (numpy) = engine HeavyBall at lr eta (1 - beta)",
                      ema, hb),
    ]
    data = {"beta": beta, "eta": eta, "N": N, "T": T, "ema0": ema[0, :, 0].tolist(), "hb0": hb[0, :, 0].tolist(),
            "hb_wrong0": hb_wrong[0, :, 0].tolist(), "mc0": mc[0, :, 0].tolist(), "hbN0": hbN[0, :, 0].tolist(),
            "mc_wrong0": mc_wrong[0, :, 0].tolist(), "ctrl_lr": ctrl_lr}
    return ClaimResult("D2", checks, inst.describe(), data)


# -- D4 -----------------------------------------------------------------------------------------------------------


def _d4_grid(settings: Settings) -> tuple[np.ndarray, int]:
    return (np.linspace(-5.0, 5.0, 1001), 3000) if settings.quick else (np.linspace(-10.0, 10.0, 20001), 6000)


def run_d4(inst: MomentumInstance, settings: Settings) -> ClaimResult:
    mu, L = inst.lessard_mu, inst.lessard_L
    a, b = th.polyak_tuning(mu, L)
    an, bn = th.nag_tuning(mu, L)

    def grad(x):
        return th.lessard_grad(x, mu, L)

    cycles = th.lessard_cycles(mu, L, inst.max_period, "heavy_ball")
    nag_cycles = th.lessard_cycles(mu, L, inst.max_period, "nag")
    stable = [c for c in cycles if c.stable]
    xs, K = _d4_grid(settings)
    hb = th.heavy_ball_1d(xs, K, a, b, grad)
    nag = th.nag_1d(xs, K, an, bn, grad)
    # classify the end of every heavy-ball run: at 0, on a stable cycle, or neither
    tail = hb[-6:]
    at0 = np.max(np.abs(tail), axis=0) < D4_TOL
    on_cycle = np.zeros(xs.size, dtype=bool)
    for c in stable:
        pts = c.floats
        dist = np.max(np.min(np.abs(tail[:, :, None] - pts[None, None, :]), axis=2), axis=0)
        on_cycle |= dist < D4_TOL
    neither = ~(at0 | on_cycle)
    lessard_starts = (xs >= 3.07) & (xs <= 3.46)
    checks = []
    # f is mu-strongly convex and L-smooth: slopes of grad f in [mu, L], continuous at the breakpoints
    jumps = max(abs(L * 1 - (mu * 1 + L - mu)), abs(mu * 2 + L - mu - (L * 2 - (L - mu))))
    checks.append(Check(f"f is mu-strongly convex, L-smooth (mu = {mu:g}, L = {L:g}): grad f continuous at x = 1, 2, "
                        "slopes in {mu, L} (largest jump)", CLAIM, 0.0, exact(jumps, "exact arithmetic"), 1e-9,
                        "Lessard et al. 2016 (their counterexample)"))
    if stable:
        c = stable[0]
        resid = 0.0
        aE = sp.nsimplify(4 / (sp.sqrt(sp.nsimplify(L)) + sp.sqrt(sp.nsimplify(mu))) ** 2)
        bE = sp.nsimplify(((sp.sqrt(sp.nsimplify(L)) - sp.sqrt(sp.nsimplify(mu))) /
                           (sp.sqrt(sp.nsimplify(L)) + sp.sqrt(sp.nsimplify(mu)))) ** 2)
        p = c.period
        for i in range(p):
            x, xm, xn = c.points[i], c.points[i - 1], c.points[(i + 1) % p]
            s_, c_ = th.lessard_pieces(sp.nsimplify(mu), sp.nsimplify(L))[c.regions[i]]
            resid = max(resid, abs(float(sp.simplify(xn - (x - aE * (s_ * x + c_) + bE * (x - xm))))))
        checks.append(Check(f"exact periodic orbit of heavy ball (period {p}): {', '.join(str(q) for q in c.points)} "
                            "satisfies the heavy-ball map exactly (residual)", CLAIM, 0.0,
                            exact(resid, "SymPy exact arithmetic"), 1e-9, f"pieces {c.regions} (0: x < 1, 1: [1, 2), 2: x >= 2)"))
        checks.append(Check(f"the cycle is attracting: spectral radius of the period map's Jacobian <= 1 "
                            f"(= {max(c.multipliers):.6g})", CLAIM, 1.0, exact(max(c.multipliers), "SymPy eigenvalues"),
                            0.0, "bound: the whole interval must lie below 1", bound=True))
    checks.append(Check(f"heavy ball (Polyak's tuning) has an attracting periodic orbit of period <= {inst.max_period} "
                        "(number found)", CLAIM, 1.0, exact(float(len(stable)), "exhaustive enumeration of piece patterns"),
                        1e-9, main=True, note= f"all orbits found: {[(str(list(map(str, q.points))), round(max(q.multipliers), 4)) for q in cycles]}"))
    frac_bad = float(np.mean(neither))
    checks.append(Check(f"limit set of heavy ball from {xs.size} starts in [{xs[0]:g}, {xs[-1]:g}] ({K} steps): every run "
                        "ends at x* = 0 or on the exact cycle (fraction neither)", CLAIM, 0.0,
                        exact(frac_bad, f"deterministic runs; distance tolerance {D4_TOL:g}"), 1e-9,
                        f"fraction on the cycle: {np.mean(on_cycle):.4f}"))
    if lessard_starts.any():
        checks.append(Check("Lessard et al.'s starts x0 in [3.07, 3.46] all end on the cycle (fraction not on it)", CLAIM,
                            0.0, exact(float(np.mean(~on_cycle[lessard_starts])), "deterministic runs"), 1e-9,
                            f"{int(lessard_starts.sum())} grid starts"))
    worst_hb = float(np.max(np.abs(hb[-1])))
    checks.append(Check("control: heavy ball converges from every start (max |x_K - x*|)", NEGATIVE_CONTROL, 0.0,
                        exact(worst_hb, "deterministic runs", abs_tol=D4_TOL), 1e-6, ""))
    worst_nag = float(np.max(np.abs(nag[-1])))
    checks.append(Check(f"NAG (alpha = 1/L, beta = (sqrt kappa - 1)/(sqrt kappa + 1)) converges from every start "
                        f"(max |x_K - x*| over {xs.size} starts, {K} steps)", CLAIM, 0.0,
                        exact(worst_nag, "deterministic runs", abs_tol=D4_TOL), 1e-6, ""))
    checks.append(Check(f"NAG has no periodic orbit of period <= {inst.max_period} (number found)", CLAIM, 0.0,
                        exact(float(len(nag_cycles)), "exhaustive enumeration of piece patterns"), 1e-9, ""))
    if stable:
        amp = float(np.max(np.abs(stable[0].floats)))
        checks.append(Check("control: NAG ends on heavy ball's cycle too (max |x_K| = the cycle's max |x|)",
                            NEGATIVE_CONTROL, amp, exact(worst_nag, "deterministic runs", abs_tol=D4_TOL), 1e-6, ""))
    show = int(np.argmin(np.abs(xs - 3.3)))
    data = {"mu": mu, "L": L, "alpha": a, "beta": b, "alpha_nag": an, "beta_nag": bn,
            "cycles": [{"points": [str(q) for q in c.points], "floats": c.floats.tolist(), "regions": list(c.regions),
                        "multipliers": c.multipliers, "stable": c.stable} for c in cycles],
            "starts": xs[:: max(1, xs.size // 2000)].tolist(),
            "outcome": np.where(at0, 0, np.where(on_cycle, 1, 2))[:: max(1, xs.size // 2000)].tolist(),
            "x0_show": float(xs[show]), "hb_show": hb[:60, show].tolist(), "nag_show": nag[:60, show].tolist(),
            "K": K}
    return ClaimResult("D4", checks, inst.describe(), data)


# -- D5 -----------------------------------------------------------------------------------------------------------


def lookahead_path(inst: MomentumInstance, xi: np.ndarray, mu: float, gamma: float):
    """Seed 001's look-ahead form in numpy: m_t = mu m_(t-1) + gamma grad(theta_t - mu m_(t-1)),
    theta_(t+1) = theta_t - m_t; returns the look-ahead points phi_t = theta_t - mu m_(t-1), t = 0..T."""
    P, T, d = xi.shape
    th_ = np.tile(inst.w0 - inst.w_star, (P, 1))
    m = np.zeros((P, d))
    out = np.empty((P, T + 1, d))
    for t in range(T):
        phi = th_ - mu * m
        out[:, t] = phi
        g = phi @ inst.H.T + xi[:, t]
        m = mu * m + gamma * g
        th_ = th_ - m
    out[:, T] = th_ - mu * m
    return out


def _slope_fit(f, K: int) -> tuple[float, float]:
    """Fitted log-log slope of f on [K/2, K] and its settling allowance 3 |s[K/2, K] - s[K/4, K/2]|."""
    s2 = th.window_slope(f, K // 2, K)
    s1 = th.window_slope(f, K // 4, K // 2)
    return s2, 3.0 * abs(s2 - s1)


def run_d5(inst: MomentumInstance, settings: Settings) -> ClaimResult:
    der = th.derive()
    checks = []
    for form, diff in der.d5_differences.items():
        checks.append(Check(f"SymPy: {form} evaluates the gradient at the slide's look-ahead point theta_t - mu m_(t-1) "
                            f"for t <= {der.T} (1 = differs)", CLAIM, 0.0, exact(float(diff != 0), "SymPy simplify"),
                            1e-9, "generic oracle: every evaluation point receives a fresh symbol"))
    checks.append(Check("control (SymPy): the quiz completed as 'theta = theta - m' (heavy ball); differs? (1 = yes)",
                        NEGATIVE_CONTROL, 0.0, exact(float(der.d5_wrong_quiz != 0), "SymPy simplify"), 1e-9,
                        f"first difference of the evaluation points: {der.d5_wrong_quiz}"))
    T, P = _steps(settings)
    key = (SEED, 5)
    xi = engine_noise(inst, T, P, settings.seed, key)
    la = lookahead_path(inst, xi, inst.momentum, inst.lr)
    nes = engine_trajectories(inst, Nesterov(inst.momentum), inst.lr, T, P, settings.seed, key)
    hb = engine_trajectories(inst, HeavyBall(inst.momentum), inst.lr, T, P, settings.seed, key)
    checks.append(_identity_check(f"engine Nesterov (PyTorch form) iterates = the look-ahead points of seed 001's form, "
                                  f"{P} noisy paths x {T} steps (max relative difference)", CLAIM, _rel(nes, la),
                                  "common random numbers"))
    checks.append(_identity_check("control: engine HeavyBall iterates = the look-ahead points", NEGATIVE_CONTROL,
                                  _rel(hb, la), "momentum without the look-ahead"))
    # rates on a smooth convex problem
    settings.step("D5: GD and NAG on the convex quadratic")
    lam, x0 = th.convex_spectrum(inst.convex_d, inst.convex_lambda_min, inst.convex_L)
    K = 2000 if settings.quick else 16000
    if inst.convex_lambda_min * K * K > 1e-4 * inst.convex_L:
        raise SgdTheoryError(f"convex.lambda_min = {inst.convex_lambda_min:g} is too large for {K} steps: NAG would see "
                             "the smallest eigenvalue (need lambda_min K^2 <= 1e-4 L)")
    fg, fn = th.convex_runs(lam, x0, inst.convex_L, K)
    fg_exact = th.gd_excess_exact(lam, x0, inst.convex_L, [K // 4, K // 2, K])
    sg, tg = _slope_fit(fg, K)
    sn, tn = _slope_fit(fn, K)
    eg = exact(sg, f"least-squares log-log slope on k in [{K // 2}, {K}], allowance 3 x change from [{K // 4}, {K // 2}]",
               abs_tol=tg)
    en = exact(sn, f"least-squares log-log slope on k in [{K // 2}, {K}], allowance as for GD", abs_tol=tn)
    checks += [
        Check("GD (step 1/L) simulated f(x_k) - f* = the closed form (1/2) sum lam_j x0_j^2 (1 - lam_j/L)^(2k) "
              "(max relative difference at K/4, K/2, K)", CLAIM, 0.0,
              exact(_rel(fg[[K // 4, K // 2, K]], fg_exact), "float64", abs_tol=1e-9), 1e-8, ""),
        Check("GD on the smooth convex quadratic: fitted slope of log(f - f*) on log k = -1 (O(1/k))", CLAIM, -1.0, eg,
              RES_SLOPE, f"resolution {RES_SLOPE:g}; deterministic; settling allowance {tg:.3g}"),
        Check("control: GD slope = -2", NEGATIVE_CONTROL, -2.0, eg, RES_SLOPE, "the accelerated rate"),
        Check("NAG (step 1/L, momentum (k - 1)/(k + 2)): fitted slope = -2 (O(1/k^2))", CLAIM, -2.0, en, RES_SLOPE,
              f"resolution {RES_SLOPE:g}; settling allowance {tn:.3g}", main=True),
        Check("control: NAG slope = -1", NEGATIVE_CONTROL, -1.0, en, RES_SLOPE, "GD's rate"),
    ]
    ks = np.unique(np.geomspace(1, K, 200).astype(int))
    data = {"ks": ks.tolist(), "f_gd": fg[ks].tolist(), "f_nag": fn[ks].tolist(), "K": K, "slope_gd": sg, "tol_gd": tg,
            "slope_nag": sn, "tol_nag": tn, "bound_nag": (2 * inst.convex_L * np.sum(x0**2) / (ks + 1.0) ** 2).tolist(),
            "nes0": nes[0, :, 0].tolist(), "la0": la[0, :, 0].tolist(), "hb0": hb[0, :, 0].tolist()}
    return ClaimResult("D5", checks, inst.describe(), data)


def _derive(inst, latex=False):
    text = th.derive().text()
    c = th.lessard_cycles(inst.lessard_mu, inst.lessard_L, inst.max_period, "heavy_ball")
    text += "\nD4: periodic orbits of heavy ball (Polyak's tuning) on Lessard et al.'s piecewise quadratic:\n"
    for cy in c:
        text += (f"    period {cy.period}: {', '.join(str(q) for q in cy.points)} (pieces {cy.regions}), "
                 f"|multipliers| = {[round(m, 6) for m in cy.multipliers]}, {'attracting' if cy.stable else 'repelling'}\n")
    return "\\begin{verbatim}\n" + text + "\n\\end{verbatim}" if latex else text


def _figure(claim_id):
    def make(result, outdir):
        from ..figures import momentum as fm

        return fm.FIGURES[claim_id](result, outdir)
    return make


_COMMON = dict(derive=_derive, default_instance=default_instance, instance_from_config=instance_from_config)
register(Claim("D1", "Momentum is a weighted sum of past gradients", "001, slide 'Momentum gradient descent'",
               "m_t = mu m_(t-1) + gamma grad L <=> step = gamma (grad L_t + mu grad L_(t-1) + mu^2 grad L_(t-2) + ...)",
               "equality", run_d1, figure=_figure("D1"), **_COMMON))
register(Claim("D2", "Equivalent momentum parameterisations (EMA form; McAllester's v = N eta mu)",
               "000 'Momentum'; 003 'Momentum', 'A Reparameterization'",
               "EMA m <- beta m + (1 - beta) g, w -= eta m is heavy ball with lr eta (1 - beta); v_t = N eta mu_t",
               "equality", run_d2, figure=_figure("D2"), **_COMMON))
register(Claim("D4", "Heavy ball can cycle on a strongly convex function; NAG converges",
               "001 'Nesterov's momentum'; Lessard, Recht & Packard 2016 (heavy-ball counterexample)",
               "heavy ball with Polyak's tuning (mu = 1, L = 25) has an attracting 3-cycle on the piecewise quadratic",
               "equality", run_d4, figure=_figure("D4"), **_COMMON))
register(Claim("D5", "Nesterov's accelerated gradient: equivalent forms; O(1/k^2) vs O(1/k)",
               "001 'Nesterov's momentum' and quiz; Nesterov 1983",
               "look-ahead, quiz, PyTorch and two-sequence forms coincide; f - f* = O(1/k^2) for NAG, O(1/k) for GD",
               "rate", run_d5, figure=_figure("D5"), **_COMMON))
