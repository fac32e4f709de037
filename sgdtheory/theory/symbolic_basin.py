r"""Exact symbolic (SymPy) derivations for the quadratic-basin theorem.

Source: D. McAllester, TTIC 31230 SGD slides (seed ``003``), slides "A Quadratic Basin
Theorem", "Analyzing Stationary Distributions", "Proof: Observation 1 / Step 1 / Step 2";
claims ``B3``, ``B4``, ``B5`` and errata ``E3``, ``E4`` of ``CLAIMS.md``. The numeric
counterpart and the notation are in :mod:`sgdtheory.theory.quadratic_basin`.

For a concrete :class:`~sgdtheory.theory.quadratic_basin.QuadraticBasin` the entries of
``G`` and ``H`` are converted to rationals (each float to the rational it stores exactly,
``exact_rational``: p/2^k from ``float.as_integer_ratio``, not the shortest decimal that rounds
to it, so "exact" means exact for the stored doubles; G is then
recentred exactly, so :math:`E_i g_i = 0` holds in exact arithmetic) and the
stationary equation

.. math:: S = E[(I-\eta H_B)S(I-\eta H_B)] + \eta^2 c_B\Sigma
          \iff \bar H S + S\bar H - \eta\,E[H_B S H_B] = \eta\,c_B\Sigma
          \quad(\eta > 0),

with :math:`E[H_B S H_B] = (1-c_B)\bar H S\bar H + c_B\operatorname{mean}_i H_i S H_i`, is
solved over :math:`\mathbb{Q}(\eta)` in the symmetric unknowns :math:`S_{jk}, j \le k`.
:math:`L(\eta) - L(\Phi^*) = \tfrac12\operatorname{tr}(\bar H S)` is then an exact
rational function of :math:`\eta`. The general derivations use symbols for the moments
instead of numbers (d = 1 exactly; the first-order term for a symbolic d = 2 or 3 instance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.polys.matrices import DomainMatrix

from ..errors import SgdTheoryError
from .quadratic_basin import QuadraticBasin

__all__ = [
    "Derivation",
    "exact_rational",
    "symbolic_excess_loss",
    "derive",
    "general_1d_derivation",
    "general_perturbative_derivation",
]

_MAX_SYMBOLIC_DIM = 4
_DEFAULT_ETA = sympy.Symbol("eta", positive=True)


@dataclass
class Derivation:
    """An ordered list of derivation steps ``(title, sympy object)``; titles are unique."""

    title: str
    steps: list[tuple[str, Any]] = field(default_factory=list)

    def add(self, title: str, obj: Any) -> None:
        """Append a step; ``title`` must not be used yet."""
        if any(existing == title for existing, _ in self.steps):
            raise SgdTheoryError(f"title {title!r} is already a step of this derivation")
        self.steps.append((title, obj))

    def __getitem__(self, title: str) -> Any:
        """The sympy object of the step called ``title``."""
        for existing, obj in self.steps:
            if existing == title:
                return obj
        raise KeyError(f"no step titled {title!r}; steps: {[t for t, _ in self.steps]}")

    def text(self) -> str:
        """Plain-text rendering, one ``sympy.pretty`` block per step."""
        blocks = [self.title, "=" * len(self.title)]
        for number, (title, obj) in enumerate(self.steps, start=1):
            blocks.append(f"\n{number}. {title}\n{sympy.pretty(obj, use_unicode=True)}")
        return "\n".join(blocks)

    def latex(self) -> str:
        """LaTeX rendering, one displayed ``sympy.latex`` equation per step."""
        blocks = [f"\\paragraph{{{self.title}}}"]
        for title, obj in self.steps:
            blocks.append(f"\\textbf{{{title}}}\n\\[\n{sympy.latex(obj)}\n\\]")
        return "\n\n".join(blocks)


# --------------------------------------------------------------------------- exact data


def exact_rational(x) -> sympy.Rational:
    """The rational number a float stores, exactly: p/q with q a power of 2 (``float.as_integer_ratio``).

    Not the shortest decimal that rounds to it (``Rational(repr(x))``: 0.1 -> 1/10, which is not the
    double 0.1 = 3602879701896397/2^55) and not a nearby simple fraction (``limit_denominator``): every
    SymPy result built from these is exact for the stored double inputs.  Raises SgdTheoryError for
    NaN or infinity.
    """
    value = float(x)
    if not math.isfinite(value):
        raise SgdTheoryError(f"x: expected a finite float to convert to an exact rational, got {value!r}")
    return sympy.Rational(*value.as_integer_ratio())


_rational = exact_rational


@dataclass(frozen=True)
class _ExactBasin:
    """Rational copy of a QuadraticBasin and the exact batch moments it needs."""

    hessians: tuple[sympy.ImmutableMatrix, ...]
    gradients: tuple[sympy.ImmutableMatrix, ...]
    batch_factor: sympy.Rational

    @property
    def d(self) -> int:
        return self.hessians[0].shape[0]

    @property
    def mean_hessian(self) -> sympy.Matrix:
        return sum(self.hessians, sympy.zeros(self.d)) / len(self.hessians)

    @property
    def mean_squared_gradient(self) -> sympy.Rational:
        """E_i‖g_i‖² = tr Σ."""
        return sum((g.dot(g) for g in self.gradients), sympy.Integer(0)) / len(self.gradients)

    @property
    def batch_gradient_covariance(self) -> sympy.Matrix:
        """E[g_B g_Bᵀ] = c_B Σ."""
        sigma = sum((g * g.T for g in self.gradients), sympy.zeros(self.d)) / len(self.gradients)
        return self.batch_factor * sigma

    def lyapunov(self, X: sympy.Matrix) -> sympy.Matrix:
        """H̄X + XH̄."""
        return self.mean_hessian * X + X * self.mean_hessian

    def sandwich(self, X: sympy.Matrix) -> sympy.Matrix:
        """E[H_B X H_B] = (1 − c_B) H̄XH̄ + c_B mean_i H_i X H_i."""
        hbar, c = self.mean_hessian, self.batch_factor
        mean = sum((h * X * h for h in self.hessians), sympy.zeros(self.d)) / len(self.hessians)
        return (1 - c) * hbar * X * hbar + c * mean

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """Index pairs (j, k), j ≤ k, of the symmetric unknowns S_jk."""
        return [(j, k) for j in range(self.d) for k in range(j, self.d)]

    def upper(self, X: sympy.Matrix) -> list:
        return [X[j, k] for j, k in self.pairs]

    def basis(self, j: int, k: int) -> sympy.Matrix:
        E = sympy.zeros(self.d)
        E[j, k] = E[k, j] = 1
        return E

    def coefficient_matrix(self, linear_map) -> sympy.Matrix:
        """Matrix of a linear map of symmetric matrices in the coordinates S_jk, j ≤ k."""
        columns = [self.upper(linear_map(self.basis(j, k))) for j, k in self.pairs]
        return sympy.Matrix(columns).T

    def unknowns(self) -> sympy.Matrix:
        symbols = {(j, k): sympy.Symbol(f"S_{j + 1}{k + 1}") for j, k in self.pairs}
        return sympy.Matrix(self.d, self.d, lambda a, b: symbols[(min(a, b), max(a, b))])


def _exact(basin: QuadraticBasin) -> _ExactBasin:
    if not isinstance(basin, QuadraticBasin):
        raise SgdTheoryError(f"basin must be a QuadraticBasin; got {type(basin).__name__}")
    if basin.d > _MAX_SYMBOLIC_DIM:
        raise SgdTheoryError(
            f"basin has d = {basin.d}; symbolic derivations support d <= {_MAX_SYMBOLIC_DIM}, "
            "use the numeric QuadraticBasin"
        )
    n, d = basin.n, basin.d
    hessians = tuple(
        sympy.ImmutableMatrix(d, d, lambda a, b, h=h: _rational(h[min(a, b), max(a, b)]))
        for h in basin.H
    )
    raw = [sympy.Matrix([_rational(x) for x in g]) for g in basin.G]
    mean = sum(raw, sympy.zeros(d, 1)) / n
    gradients = tuple(sympy.ImmutableMatrix(g - mean) for g in raw)
    B = basin.batch_size
    if basin.sampling == "with_replacement":
        factor = sympy.Rational(1, B)
    else:
        factor = sympy.Integer(0) if n == 1 else sympy.Rational(n - B, B * (n - 1))
    return _ExactBasin(hessians, gradients, factor)


def _solve_den(matrix: sympy.Matrix, rhs: sympy.Matrix) -> tuple[list, sympy.Expr]:
    """Fraction-free exact solve of matrix·x = rhs over the polynomial ring of the entries.

    Returns (numerators, denominator) as sympy expressions with x_i = numerators[i]/denominator.
    """
    system, vector = DomainMatrix.from_Matrix(matrix), DomainMatrix.from_Matrix(rhs)
    domain = system.domain.unify(vector.domain)
    numerators, denominator = system.convert_to(domain).solve_den(vector.convert_to(domain))
    return list(numerators.to_Matrix()), domain.to_sympy(denominator)


@dataclass(frozen=True)
class _StationarySolution:
    second_moment: sympy.ImmutableMatrix
    excess_loss: sympy.Expr
    stability_polynomial: sympy.Poly


def _solve_stationary(exact: _ExactBasin, eta: sympy.Symbol) -> _StationarySolution:
    """Solve (A_0 − ηA_1) x = b over QQ(η), where A_0: S ↦ H̄S + SH̄, A_1: S ↦ E[H_B S H_B],
    b = c_BΣ, and return S = ηx, ½tr(H̄S) and det(A_0 − ηA_1)."""
    pencil = exact.coefficient_matrix(exact.lyapunov) - eta * exact.coefficient_matrix(
        exact.sandwich
    )
    rhs = sympy.Matrix(exact.upper(exact.batch_gradient_covariance))
    numerators, denominator = _solve_den(pencil, rhs)
    entries = {
        pair: sympy.cancel(eta * num / denominator) for pair, num in zip(exact.pairs, numerators)
    }
    S = sympy.ImmutableMatrix(exact.d, exact.d, lambda a, b: entries[(min(a, b), max(a, b))])
    hbar = exact.mean_hessian
    trace = sum(
        (hbar[a, b] * S[a, b] for a in range(exact.d) for b in range(exact.d)), sympy.Integer(0)
    )
    determinant = DomainMatrix.from_Matrix(pencil).det()
    return _StationarySolution(
        S, sympy.cancel(trace / 2), sympy.Poly(determinant.as_expr(), eta)
    )


def symbolic_excess_loss(basin: QuadraticBasin, eta: sympy.Symbol = _DEFAULT_ETA) -> sympy.Expr:
    """L(η) − L(Φ*) = ½tr(H̄S(η)) as an exact rational function of ``eta``.

    S solves the stationary equation S = E[(I−ηH_B)S(I−ηH_B)] + η²c_BΣ exactly, in the
    symmetric unknowns S_jk (j ≤ k), for the instance's entries made rational
    (``exact_rational``: the stored doubles exactly, G recentred exactly). Practical for d ≤ 3 and small n; raises
    ValueError for d > 4. Source: 003, slides 'Proof: Observation 1' and 'Proof: Step 1'.
    """
    return _solve_stationary(_exact(basin), eta).excess_loss


def _series(expr: sympy.Expr, eta: sympy.Symbol, order: int = 3) -> sympy.Expr:
    return sympy.series(expr, eta, 0, order)


def derive(basin: QuadraticBasin) -> Derivation:
    """Exact derivation of claims B3, B4, B5 and errata E3, E4 for one instance.

    Steps (titles): the stationary equation; S(η); L(η) − L(Φ*); its series to O(η³);
    dL/dη at 0 (``sympy.diff`` + ``sympy.limit``) and its difference from ¼E‖g_B‖²
    (simplifies to 0, the theorem); the proof identity of slide 'Proof: Step 1'
    (simplifies to 0); the extrapolation error 2L(η/2) − L(η) − L(Φ*) (starts at η²);
    the printed E3 and E4 forms next to the corrected ones; the stability polynomial and
    η_c as its smallest positive root. Source: 003, slides 'A Quadratic Basin Theorem',
    'Analyzing Stationary Distributions', 'Proof: Observation 1 / Step 1 / Step 2'.
    """
    exact = _exact(basin)
    eta = _DEFAULT_ETA
    L_star = sympy.Symbol("L_star")
    solution = _solve_stationary(exact, eta)
    excess = solution.excess_loss
    derivation = Derivation(
        f"Quadratic basin: n = {basin.n}, d = {basin.d}, B = {basin.batch_size}, "
        f"{basin.sampling} (003)"
    )

    S = exact.unknowns()
    identity = sympy.eye(exact.d)
    noise = exact.batch_gradient_covariance
    one_step = S - eta * exact.lyapunov(S) + eta**2 * exact.sandwich(S)
    derivation.add(
        "stationary equation",
        sympy.Eq(
            sympy.Matrix(exact.upper(S)),
            sympy.Matrix(exact.upper(sympy.expand(one_step + eta**2 * noise))),
            evaluate=False,
        ),
    )
    derivation.add("S(η)", solution.second_moment)
    derivation.add("L(η) − L(Φ*)", excess)
    derivation.add("series of L(η) − L(Φ*)", _series(excess, eta))

    slope = sympy.limit(sympy.diff(excess, eta), eta, 0)
    quarter_noise = noise.trace() / 4
    derivation.add("dL/dη at η = 0", slope)
    derivation.add("¼ E‖g_B‖²", quarter_noise)
    derivation.add("dL/dη at η = 0 − ¼ E‖g_B‖²", sympy.simplify(slope - quarter_noise))

    hessian_square = exact.sandwich(identity)
    proof_rhs = eta / 4 * (noise.trace() + (hessian_square * solution.second_moment).trace())
    derivation.add("L(η) − L(Φ*) − (η/4) E E‖g_B + H_B Δ‖²", sympy.cancel(excess - proof_rhs))

    def loss(step):
        return L_star + excess.subs(eta, step)

    derivation.add(
        "2L(η/2) − L(η) − L(Φ*)", _series(2 * loss(eta / 2) - loss(eta) - L_star, eta)
    )
    derivation.add(
        "printed E3: L(η) − 2L(η/2) − L(Φ*)", _series(loss(eta) - 2 * loss(eta / 2) - L_star, eta)
    )
    derivation.add(
        "printed E4: L(η) − [L(Φ*) + η E_i‖g_i‖²]",
        _series(loss(eta) - (L_star + eta * exact.mean_squared_gradient), eta),
    )
    derivation.add(
        "corrected E4: L(η) − [L(Φ*) + (η/4) E‖g_B‖²]",
        _series(loss(eta) - (L_star + eta * quarter_noise), eta),
    )

    polynomial = solution.stability_polynomial
    derivation.add("det(K − ηM) on symmetric S", polynomial.as_expr())
    positive_roots = [root for root in polynomial.real_roots() if root.is_positive]
    derivation.add("η_c", min(positive_roots, key=lambda root: root.evalf(30)))
    return derivation


def general_1d_derivation() -> Derivation:
    """Fully symbolic d = 1 derivation in the batch moments m_h = E h_B, m_h2 = E h_B², s = E g_B².

    Stationarity gives S = S(1 − 2ηm_h + η²m_h2) + η²s, so S = ηs/(2m_h − ηm_h2),
    L − L* = ½m_h S, dL/dη|₀ = s/4, η_c = 2m_h/m_h2, and 2L(η/2) − L(η) − L* =
    −(s m_h2/(16 m_h)) η² + O(η³). Source: 003, slides 'A Quadratic Basin Theorem',
    'Analyzing Stationary Distributions', 'Proof: Step 1 / Step 2'.
    """
    eta = _DEFAULT_ETA
    m_h, m_h2, s = sympy.symbols("m_h m_h2 s", positive=True)
    S = sympy.Symbol("S", positive=True)
    derivation = Derivation("Quadratic basin, d = 1, symbolic batch moments (003)")

    contraction = 1 - 2 * eta * m_h + eta**2 * m_h2
    equation = sympy.Eq(S, contraction * S + eta**2 * s)
    derivation.add("stationary equation", equation)
    second_moment = sympy.factor(sympy.solve(equation, S)[0])
    derivation.add("S(η)", second_moment)
    excess = sympy.factor(m_h * second_moment / 2)
    derivation.add("L(η) − L(Φ*)", excess)
    derivation.add("series of L(η) − L(Φ*)", _series(excess, eta))
    slope = sympy.limit(sympy.diff(excess, eta), eta, 0)
    derivation.add("dL/dη at η = 0", slope)
    derivation.add("dL/dη at η = 0 − s/4", sympy.simplify(slope - s / 4))
    derivation.add("moment operator T(η)", contraction)
    derivation.add("η_c", sympy.solve(sympy.Eq(contraction, 1), eta)[0])
    derivation.add(
        "L(η) − L(Φ*) − (η/4)(s + m_h2 S)",
        sympy.simplify(excess - eta / 4 * (s + m_h2 * second_moment)),
    )
    derivation.add(
        "2L(η/2) − L(η) − L(Φ*)", _series(2 * excess.subs(eta, eta / 2) - excess, eta)
    )
    return derivation


def general_perturbative_derivation(d: int = 2) -> Derivation:
    """The theorem for a general symbolic instance of dimension d, to first order in η.

    With symmetric symbols H̄ = [h_jk] (mean Hessian) and C = [C_jk] = c_BΣ = E[g_B g_Bᵀ],
    the order-η² part of the stationary equation for S = ηS_1 + O(η²) is
    H̄S_1 + S_1H̄ = C. Solving it for S_1 = [s_jk] gives ½tr(H̄S_1) − ¼tr(C) = 0, i.e.
    dL/dη|₀ = ¼E‖g_B‖². For any d this is the trace argument tr(H̄S_1) =
    ½tr(H̄S_1 + S_1H̄) = ½tr(C) (last steps). Supports d = 1, 2, 3.
    Source: 003, slides 'A Quadratic Basin Theorem' and 'Proof: Step 2'.
    """
    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 3:
        raise SgdTheoryError(f"d must be an int in 1..3 for the symbolic derivation; got {d!r}")
    derivation = Derivation(f"Quadratic-basin theorem, symbolic d = {d}, first order in η (003)")
    pairs = [(j, k) for j in range(d) for k in range(j, d)]

    def symmetric(name: str) -> sympy.Matrix:
        symbols = {(j, k): sympy.Symbol(f"{name}_{j + 1}{k + 1}", real=True) for j, k in pairs}
        return sympy.Matrix(d, d, lambda a, b: symbols[(min(a, b), max(a, b))])

    hbar, noise, S1 = symmetric("h"), symmetric("C"), symmetric("s")
    lyapunov = hbar * S1 + S1 * hbar
    derivation.add("first-order equation", sympy.Eq(lyapunov, noise, evaluate=False))
    unknowns = [S1[j, k] for j, k in pairs]
    residuals = [lyapunov[j, k] - noise[j, k] for j, k in pairs]
    matrix, rhs = sympy.linear_eq_to_matrix(residuals, unknowns)
    numerators, denominator = _solve_den(matrix, rhs)
    solved = S1.subs({u: num / denominator for u, num in zip(unknowns, numerators)})
    derivation.add("S_1", sympy.ImmutableMatrix(solved.applyfunc(sympy.cancel)))
    half_trace = sympy.cancel((hbar * solved).trace() / 2)
    derivation.add("½ tr(H̄ S_1)", half_trace)
    derivation.add("½ tr(H̄ S_1) − ¼ tr(C)", sympy.cancel(half_trace - noise.trace() / 4))

    Hs, Ss, Cs = (sympy.MatrixSymbol(name, d, d) for name in ("Hbar", "S_1", "C"))
    derivation.add(
        "any d: cyclic trace",
        sympy.Eq(sympy.Trace(Hs * Ss), sympy.Trace(Hs * Ss + Ss * Hs) / 2, evaluate=False),
    )
    derivation.add(
        "any d: trace of the first-order equation",
        sympy.Eq(sympy.Trace(Hs * Ss) / 2, sympy.Trace(Cs) / 4, evaluate=False),
    )
    return derivation
