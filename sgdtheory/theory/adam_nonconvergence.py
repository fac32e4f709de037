"""Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond", Section 3, Theorem 1: an online
convex problem on F = [-1, 1] where Adam converges to the worst point (claim D10).

    f_t(x) = C x   if t mod 3 = 1,      f_t(x) = -x   otherwise,        C > 2.

Over each cycle of three steps the losses sum to (C - 2) x, so the best fixed point is x* = -1 and the
regret of sitting at x = +1 grows by 2C - 4 per cycle: R_T / T -> 2(C - 2)/3 (``per_step_regret``).

Adam with beta1 = 0, beta2 = 1/(1 + C^2) and alpha_t = alpha/sqrt(t), projected onto F (their Algorithm
"Adam" without bias correction or epsilon: x_{t+1} = Pi_F(x_t - alpha_t g_t / sqrt(v_t))): once v_t has
settled into its 3-cycle (v_a after the large gradient C, then v_b, v_c after the two -1's), the net
movement over a cycle with alpha_t ~ const is alpha (-C/sqrt(v_a) + 1/sqrt(v_b) + 1/sqrt(v_c)), which is
POSITIVE for this beta2: the large gradient is drowned by its own v_a while the small ones are amplified,
so x is pushed to +1.  AMSGrad (their Algorithm 2: vhat_t = max(vhat_{t-1}, v_t)) keeps vhat = v_a, and
its net movement alpha (2 - C)/sqrt(v_a) is negative: it converges to x* = -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class CycleDerivation:
    per_step_regret: sp.Expr  # R_T/T of x = +1, in C
    v_cycle: tuple  # (v_a, v_b, v_c) in C (beta2 = 1/(1 + C^2))
    adam_drift: sp.Expr  # -C/sqrt(v_a) + 1/sqrt(v_b) + 1/sqrt(v_c)
    amsgrad_drift: sp.Expr  # (2 - C)/sqrt(v_a)

    def at(self, C: float) -> dict:
        s = sp.Symbol("C", positive=True)
        return {k: float(getattr(self, k).subs(s, C)) for k in ("per_step_regret", "adam_drift", "amsgrad_drift")}

    def text(self) -> str:
        va, vb, vc = self.v_cycle
        return "\n".join([
            "Reddi, Kale & Kumar 2018, Theorem 1: f_t = C x (t mod 3 = 1), -x otherwise, on [-1, 1]:",
            f"  regret per step of x = +1 against x* = -1:  {self.per_step_regret}",
            f"  beta1 = 0, beta2 = 1/(1 + C^2): v over the cycle  v_a = {sp.simplify(va)},",
            f"      v_b = {sp.simplify(vb)},  v_c = {sp.simplify(vc)}",
            f"  Adam's net move per cycle / alpha:  {sp.simplify(self.adam_drift)}",
            f"  AMSGrad's (vhat = v_a):  {sp.simplify(self.amsgrad_drift)}",
        ])


def derive() -> CycleDerivation:
    C = sp.Symbol("C", positive=True)
    x = sp.Symbol("x")
    cycle = [C * x, -x, -x]
    regret = sp.simplify(sum(f.subs(x, 1) - f.subs(x, -1) for f in cycle) / 3)
    b2 = 1 / (1 + C**2)
    va, vb, vc = sp.symbols("v_a v_b v_c", positive=True)
    sol = sp.solve([sp.Eq(va, b2 * vc + (1 - b2) * C**2), sp.Eq(vb, b2 * va + (1 - b2)), sp.Eq(vc, b2 * vb + (1 - b2))],
                   [va, vb, vc], dict=True)[0]
    v = tuple(sp.simplify(sol[s]) for s in (va, vb, vc))
    adam = -C / sp.sqrt(v[0]) + 1 / sp.sqrt(v[1]) + 1 / sp.sqrt(v[2])
    ams = (2 - C) / sp.sqrt(v[0])
    return CycleDerivation(regret, v, adam, ams)


def gradient(C: float, t: int) -> float:
    """f_t'(x) (t = 1, 2, ...)."""
    return C if t % 3 == 1 else -1.0


__all__ = ["derive", "gradient", "CycleDerivation"]
