"""Learning-rate schedules eta_t, t = 0, 1, 2, ... (the engine evaluates them per step).

* ``Constant(lr)``: eta_t = lr.
* ``Power(c, t0, p)``: eta_t = c / (t0 + t)^p, the Robbins-Monro family (seed 003, "Convergence
  theorem": sum eta_t = inf and sum eta_t^2 < inf for 1/2 < p <= 1).
* seed 001, slide "Learning rate scheduling: decay methods" (the table, t in steps, T_epoch = T):
  ``TimeBased(lr0, k)``: lr0 / (1 + k t);  ``Exponential(lr0, k)``: lr0 exp(-k t);
  ``StepDecay(lr0, k, T)``: lr0 exp(-k floor(t / T)) ("drops by half every T": k = ln 2).
* seed 001, slides "cycling method": ``Triangular(lr_min, lr_max, s)`` (Smith 2015/2017, "triangular"
  policy, half-period s, period 2s) and ``CosineRestarts(lr_min, lr_max, T0, T_mult)`` (Loshchilov &
  Hutter 2017, SGDR, eq. 5; restarts after T0, T0 T_mult, T0 T_mult^2, ... steps).  The slide prints
  cos(mod(t, T) pi) -- without the division by T -- which at integer t only takes the values +-1
  (claim D12 checks this as printed); the schedule implements SGDR's cos(pi T_cur / T_i).

Every schedule is a ``Schedule``: a kernel ``code`` and ``parameters()`` array read by
``_kernels.steps.learning_rate`` (so ``simulate`` and ``theory.sgd_moments`` use it), a numpy
``__call__(t)`` with the same operations (it agrees with the kernel to 1 ulp: exp, cos and pow may come
from different math libraries; NumPy has its own SIMD pow on AVX-512 machines), ``max_lr`` and, for the cyclic ones, ``period``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import codes
from .errors import SgdTheoryError, check_float, check_int


@dataclass(frozen=True)
class Schedule:
    """Base record: ``code``, ``parameters()``, ``__call__(t)`` (t >= 0, scalar or array) and ``max_lr``."""

    code = -1

    def parameters(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, t):
        raise NotImplementedError

    @property
    def max_lr(self) -> float:
        raise NotImplementedError

    @staticmethod
    def _t(t) -> np.ndarray:
        return np.asarray(t, dtype=np.float64)


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


@dataclass(frozen=True)
class Constant(Schedule):
    """eta_t = lr."""

    lr: float
    code = codes.SCHEDULE_CONSTANT

    def __post_init__(self):
        object.__setattr__(self, "lr", check_float(self.lr, "lr", 0.0, None))

    def parameters(self) -> np.ndarray:
        return np.array([self.lr, 0.0, 0.0])

    def __call__(self, t):
        return np.full(np.shape(t), self.lr) if np.ndim(t) else self.lr

    @property
    def max_lr(self) -> float:
        return self.lr


@dataclass(frozen=True)
class Power(Schedule):
    """eta_t = c / (t0 + t)^p (Robbins & Monro 1951)."""

    c: float
    t0: float = 1.0
    p: float = 1.0
    code = codes.SCHEDULE_POWER

    def __post_init__(self):
        object.__setattr__(self, "c", check_float(self.c, "c", 0.0, None))
        object.__setattr__(self, "t0", check_float(self.t0, "t0", 0.0, None))
        object.__setattr__(self, "p", check_float(self.p, "p", 0.0, None, low_open=False))

    def parameters(self) -> np.ndarray:
        return np.array([self.c, self.t0, self.p])

    def __call__(self, t):
        return self.c / (self.t0 + np.asarray(t, dtype=np.float64)) ** self.p

    @property
    def max_lr(self) -> float:
        return self.c / self.t0**self.p


@dataclass(frozen=True)
class _Decay(Schedule):
    """Base of the two-parameter decays eta_t = lr0 f(k t), f(0) = 1 non-increasing: lr0 > 0, k >= 0."""

    lr0: float
    k: float

    def __post_init__(self):
        object.__setattr__(self, "lr0", check_float(self.lr0, "lr0", 0.0, None))
        object.__setattr__(self, "k", check_float(self.k, "k", 0.0, None, low_open=False))

    def parameters(self) -> np.ndarray:
        return np.array([self.lr0, self.k, 0.0])

    @property
    def max_lr(self) -> float:
        return self.lr0


@dataclass(frozen=True)
class TimeBased(_Decay):
    """eta_t = lr0 / (1 + k t) (seed 001, "Time-based"); half-life 1/k steps, eta_t ~ (lr0/k)/t."""

    code = codes.SCHEDULE_TIME_BASED

    def __call__(self, t):
        return _out(self.lr0 / (1.0 + self.k * self._t(t)))


@dataclass(frozen=True)
class Exponential(_Decay):
    """eta_t = lr0 exp(-k t) (seed 001, "Exponential"); half-life ln 2 / k steps."""

    code = codes.SCHEDULE_EXPONENTIAL

    def __call__(self, t):
        return _out(self.lr0 * np.exp(-self.k * self._t(t)))


@dataclass(frozen=True)
class StepDecay(Schedule):
    """eta_t = lr0 exp(-k floor(t / T)) (seed 001, "Step"; T = T_epoch in steps): constant on each block of
    T steps, multiplied by exp(-k) at t = T, 2T, ...; the slide's "drops by half every T_epoch" is k = ln 2."""

    lr0: float
    k: float
    T: int
    code = codes.SCHEDULE_STEP

    def __post_init__(self):
        object.__setattr__(self, "lr0", check_float(self.lr0, "lr0", 0.0, None))
        object.__setattr__(self, "k", check_float(self.k, "k", 0.0, None, low_open=False))
        object.__setattr__(self, "T", check_int(self.T, "T", 1))

    def parameters(self) -> np.ndarray:
        return np.array([self.lr0, self.k, float(self.T)])

    def __call__(self, t):
        return _out(self.lr0 * np.exp(-self.k * np.floor(self._t(t) / float(self.T))))

    @property
    def max_lr(self) -> float:
        return self.lr0


@dataclass(frozen=True)
class Triangular(Schedule):
    """Smith's triangular cyclical rate (Smith 2017, "Cyclical learning rates", Sec. 3.1; seed 001, "cycling"):

        cycle = floor(1 + t / (2 s));  x = |t / s - 2 cycle + 1|;  eta_t = lr_min + (lr_max - lr_min) max(0, 1 - x),

    linear from lr_min at t = 0 up to lr_max at t = s and back to lr_min at t = 2s; period 2s
    (s = Smith's "stepsize", the half-period), bounds lr_min <= eta_t <= lr_max, both attained.
    """

    lr_min: float
    lr_max: float
    s: int
    code = codes.SCHEDULE_TRIANGULAR

    def __post_init__(self):
        object.__setattr__(self, "lr_min", check_float(self.lr_min, "lr_min", 0.0, None, low_open=False))
        object.__setattr__(self, "lr_max", check_float(self.lr_max, "lr_max", 0.0, None))
        object.__setattr__(self, "s", check_int(self.s, "s", 1))
        if self.lr_max < self.lr_min:
            raise SgdTheoryError(f"lr_max = {self.lr_max:g} is out of range: valid range is [lr_min, inf) = "
                                 f"[{self.lr_min:g}, inf)")

    def parameters(self) -> np.ndarray:
        return np.array([self.lr_min, self.lr_max, float(self.s)])

    def __call__(self, t):
        tf = self._t(t)
        s = float(self.s)
        cycle = np.floor(1.0 + tf / (2.0 * s))
        x = np.abs(tf / s - 2.0 * cycle + 1.0)
        return _out(self.lr_min + (self.lr_max - self.lr_min) * np.maximum(0.0, 1.0 - x))

    @property
    def max_lr(self) -> float:
        return self.lr_max

    @property
    def period(self) -> int:
        return 2 * self.s


@dataclass(frozen=True)
class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR; Loshchilov & Hutter 2017, eq. 5; seed 001, "cycling method"):

        eta_t = lr_min + (lr_max - lr_min) (1 + cos(pi T_cur / T_i)) / 2,

    with T_cur the steps since the last restart and T_i = T0 T_mult^i the length of cycle i (restarts
    at T0, T0 (1 + T_mult), ...).  eta restarts at lr_max and decays towards lr_min (reached only in
    the limit: lr_min < eta_t <= lr_max at integer t).  T_mult = 1: period T0.  The slide's printed
    cos(mod(t, T) pi) lacks the division by T (see the module docstring).
    """

    lr_min: float
    lr_max: float
    T0: int
    T_mult: int = 1
    code = codes.SCHEDULE_COSINE_RESTARTS

    def __post_init__(self):
        object.__setattr__(self, "lr_min", check_float(self.lr_min, "lr_min", 0.0, None, low_open=False))
        object.__setattr__(self, "lr_max", check_float(self.lr_max, "lr_max", 0.0, None))
        object.__setattr__(self, "T0", check_int(self.T0, "T0", 1))
        object.__setattr__(self, "T_mult", check_int(self.T_mult, "T_mult", 1, 64))
        if self.lr_max < self.lr_min:
            raise SgdTheoryError(f"lr_max = {self.lr_max:g} is out of range: valid range is [lr_min, inf) = "
                                 f"[{self.lr_min:g}, inf)")

    def parameters(self) -> np.ndarray:
        return np.array([self.lr_min, self.lr_max, float(self.T0), float(self.T_mult)])

    def position(self, t):
        """(T_cur, T_i) at step t (arrays like t): the kernel's loop, vectorised."""
        tf = np.array(self._t(t), dtype=np.float64, copy=True)
        T = np.full(tf.shape, float(self.T0))
        if self.T_mult == 1:
            return tf - T * np.floor(tf / T), T
        while np.any(tf >= T):
            over = tf >= T
            tf[over] -= T[over]
            T[over] *= float(self.T_mult)
        return tf, T

    def restarts(self, n: int) -> np.ndarray:
        """The first n restart steps T0, T0 + T0 T_mult, ..."""
        return np.cumsum(self.T0 * float(self.T_mult) ** np.arange(n))

    def __call__(self, t):
        tc, T = self.position(t)
        return _out(self.lr_min + 0.5 * (self.lr_max - self.lr_min) * (1.0 + np.cos(np.pi * tc / T)))

    @property
    def max_lr(self) -> float:
        return self.lr_max

    @property
    def period(self) -> int | None:
        return self.T0 if self.T_mult == 1 else None


SCHEDULES = {"constant": Constant, "power": Power, "time_based": TimeBased, "exponential": Exponential,
             "step": StepDecay, "triangular": Triangular, "cosine_restarts": CosineRestarts}


def from_config(cfg: dict) -> Schedule:
    """A schedule from a TOML table {kind = "...", <fields>} (kinds: the keys of ``SCHEDULES``)."""
    import dataclasses

    cfg = dict(cfg)
    kind = cfg.pop("kind", None)
    if kind not in SCHEDULES:
        raise SgdTheoryError(f"schedule.kind: unknown {kind!r}; valid: {', '.join(SCHEDULES)}")
    valid = [f.name for f in dataclasses.fields(SCHEDULES[kind])]
    unknown = sorted(set(cfg) - set(valid))
    if unknown:
        raise SgdTheoryError(f"schedule.{unknown[0]}: unknown field for {kind}; valid: {', '.join(valid)}")
    return SCHEDULES[kind](**cfg)


__all__ = ["Schedule", "Constant", "Power", "TimeBased", "Exponential", "StepDecay", "Triangular", "CosineRestarts",
           "SCHEDULES", "from_config"]
