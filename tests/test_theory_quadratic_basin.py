"""Deterministic checks of the quadratic-basin theory (003; claims B3, B4, B5, E3, E4).

No Monte Carlo: every check compares exact computations that take different routes
(Kronecker-product linear algebra, Lyapunov recursions, brute-force enumeration of all
minibatches, exact rational SymPy solutions, finite differences).
"""

import dataclasses
import itertools

import numpy as np
import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sgdtheory.theory.quadratic_basin import SAMPLINGS, QuadraticBasin
from sgdtheory.theory.symbolic_basin import (
    Derivation,
    derive,
    general_1d_derivation,
    general_perturbative_derivation,
    symbolic_excess_loss,
)

ETA = sympy.Symbol("eta", positive=True)
# derandomize: the same examples on every run; no example database, so no state between runs
SETTINGS = settings(deadline=None, max_examples=30, derandomize=True, database=None)
ENTRIES = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))


def make_instance(G, A, N, batch_size, sampling):
    """H_i = A_iA_iᵀ + (N_i − mean N) + 0.1 I: mean Hessian ≻ 0, single H_i may be indefinite."""
    d = G.shape[1]
    N = 0.5 * (N + N.transpose(0, 2, 1))
    H = A @ A.transpose(0, 2, 1) + (N - N.mean(axis=0)) + 0.1 * np.eye(d)
    return QuadraticBasin(G - G.mean(axis=0), H, batch_size, sampling)


@st.composite
def basins(draw, max_d=3, max_batch_with_replacement=3, dims=None, samplings=SAMPLINGS):
    n = draw(st.integers(2, 5))
    d = draw(st.sampled_from(dims)) if dims else draw(st.integers(1, max_d))
    G = draw(arrays(np.float64, (n, d), elements=ENTRIES))
    A = draw(arrays(np.float64, (n, d, d), elements=ENTRIES))
    N = draw(arrays(np.float64, (n, d, d), elements=ENTRIES))
    sampling = draw(st.sampled_from(samplings))
    top = n if sampling == "without_replacement" else max_batch_with_replacement
    return make_instance(G, A, N, draw(st.integers(1, top)), sampling)


def random_basin(seed, n, d, batch_size=1, sampling="with_replacement"):
    rng = np.random.default_rng(seed)
    G, A, N = rng.uniform(-2, 2, (n, d)), rng.uniform(-2, 2, (n, d, d)), rng.uniform(-1, 1, (n, d, d))
    return make_instance(G, A, N, batch_size, sampling)


def has_noise(basin):
    """Excludes (near-)noiseless instances, where L(η) − L(Φ*) ≈ 0 and ratios are meaningless."""
    return basin.slope_at_zero() > 1e-6 and basin.stability_limit() > 1e-3


def all_batches(basin):
    """Every minibatch with its probability: ordered B-tuples or B-subsets, uniformly."""
    n, B = basin.n, basin.batch_size
    if basin.sampling == "with_replacement":
        batches = list(itertools.product(range(n), repeat=B))
    else:
        batches = list(itertools.combinations(range(n), B))
    return [list(b) for b in batches], 1.0 / len(batches)


def enumerated_moments(basin):
    """E[g_B], E[g_B g_Bᵀ], E[H_B], E[H_B⊗H_B], E[H_B²] by brute force over all batches."""
    batches, p = all_batches(basin)
    d = basin.d
    moments = [np.zeros(d), np.zeros((d, d)), np.zeros((d, d)), np.zeros((d * d, d * d)), np.zeros((d, d))]
    for batch in batches:
        g, h = basin.G[batch].mean(axis=0), basin.H[batch].mean(axis=0)
        for moment, value in zip(moments, (g, np.outer(g, g), h, np.kron(h, h), h @ h)):
            moment += p * value
    return moments


def rel_close(a, b, rtol):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), np.max(np.abs(a)), 1e-300)


def spectral_radius(matrix):
    return np.max(np.abs(np.linalg.eigvals(matrix)))


# ----------------------------------------------------------------------- batch algebra


@SETTINGS
@given(basins())
def test_batch_moments_equal_enumeration_over_all_batches(basin):
    mean_g, gg, mean_h, hh, h2 = enumerated_moments(basin)
    scale_g = max(np.max(np.abs(basin.G)), 1.0)
    assert np.max(np.abs(mean_g)) <= 1e-12 * scale_g
    tolerance = {"rtol": 1e-12, "atol": 1e-12 * scale_g**2}
    assert np.allclose(gg, basin.batch_factor * basin.gradient_second_moment, **tolerance)
    assert np.allclose(gg, basin.batch_gradient_covariance, **tolerance)
    assert rel_close(mean_h, basin.mean_hessian, 1e-12)
    assert rel_close(hh, basin.batch_hessian_kron_moment, 1e-11)
    assert rel_close(h2, basin.batch_hessian_square_moment, 1e-11)


@pytest.mark.parametrize(
    ("n", "B", "sampling", "expected"),
    [
        (5, 1, "with_replacement", 1.0),
        (5, 3, "with_replacement", 1 / 3),
        (5, 7, "with_replacement", 1 / 7),
        (5, 1, "without_replacement", 1.0),
        (5, 2, "without_replacement", 3 / 8),
        (5, 5, "without_replacement", 0.0),
        (1, 1, "without_replacement", 0.0),
    ],
)
def test_batch_factor_values(n, B, sampling, expected):
    if n == 1:
        basin = QuadraticBasin(np.zeros((1, 2)), np.eye(2)[None], B, sampling)
    else:
        basin = random_basin(0, n, 2, B, sampling)
    assert basin.batch_factor == pytest.approx(expected, rel=1e-15, abs=0)


def test_full_batch_without_replacement_has_no_stationary_spread():
    basin = random_basin(1, 4, 2, 4, "without_replacement")
    eta = 0.5 * basin.stability_limit()
    assert basin.batch_factor == 0.0
    assert basin.excess_loss(eta) == 0.0
    gd_limit = 2 / np.linalg.eigvalsh(basin.mean_hessian)[-1]
    assert basin.stability_limit() == pytest.approx(gd_limit, rel=1e-12)
    with pytest.raises(ValueError, match="local_loglog_slope"):
        basin.local_loglog_slope(eta)


# ------------------------------------------------------------------ stationary law


@SETTINGS
@given(basins(), st.floats(0.05, 0.95))
@example(  # full batch: c_B = 0 and S = 0, but the float batch mean g_B is ~1e-17, not 0
    basin=QuadraticBasin(
        np.array([[0, 0, -0.2], [0, 0, -0.2], [0, 0, -0.2], [0, 0, 0.8], [0, 0, -0.2]]),
        np.tile(0.1 * np.eye(3), (5, 1, 1)),
        5,
        "without_replacement",
    ),
    fraction=0.5,
)
def test_stationary_second_moment_is_fixed_point_of_enumerated_update(basin, fraction):
    eta = fraction * basin.stability_limit()
    S = basin.stationary_second_moment(eta)
    batches, p = all_batches(basin)
    image = np.zeros_like(S)
    for batch in batches:
        g, h = basin.G[batch].mean(axis=0), basin.H[batch].mean(axis=0)
        A = np.eye(basin.d) - eta * h
        image += p * (A @ S @ A.T + eta**2 * np.outer(g, g))
    scale = max(np.max(np.abs(S)), eta**2 * np.max(np.abs(basin.gradient_second_moment)), 1e-300)
    assert np.max(np.abs(image - S)) <= 1e-10 * scale
    assert np.all(np.linalg.eigvalsh(S) >= -1e-12 * scale)
    assert np.array_equal(S, S.T)


@SETTINGS
@given(basins())
def test_stability_limit_is_where_spectral_radius_crosses_one(basin):
    eta_c = basin.stability_limit()
    assume(eta_c > 1e-3)
    assert spectral_radius(basin.moment_operator(eta_c * (1 - 1e-5))) < 1.0
    assert spectral_radius(basin.moment_operator(eta_c)) == pytest.approx(1.0, abs=1e-9)
    assert spectral_radius(basin.moment_operator(eta_c * (1 + 1e-5))) > 1.0
    assert spectral_radius(basin.moment_operator(0.5 * eta_c)) < 1.0
    assert eta_c <= 2.0 / np.linalg.eigvalsh(basin.mean_hessian)[-1] * (1 + 1e-12)
    with pytest.raises(ValueError, match="eta"):
        basin.stationary_second_moment(eta_c)


def test_moment_operator_acts_on_row_major_vec():
    basin = random_basin(2, 4, 3, 2, "with_replacement")
    eta, S = 0.1, np.arange(9.0).reshape(3, 3)
    batches, p = all_batches(basin)
    contractions = [np.eye(3) - eta * basin.H[b].mean(axis=0) for b in batches]
    expected = sum(p * A @ S @ A.T for A in contractions)
    image = basin.moment_operator(eta) @ S.reshape(-1)
    assert np.allclose(image, expected.reshape(-1), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------- B4: theorem and proof


@SETTINGS
@given(basins(), st.floats(0.01, 0.99))
def test_proof_identity_equals_excess_loss_for_every_batch_size(basin, fraction):
    assume(has_noise(basin))
    eta = fraction * basin.stability_limit()
    assert basin.proof_identity_rhs(eta) == pytest.approx(basin.excess_loss(eta), rel=1e-12)


@SETTINGS
@given(basins())
def test_slope_at_zero_equals_finite_difference_and_first_series_coefficient(basin):
    assume(has_noise(basin))
    eta_c = basin.stability_limit()
    h = 1e-7 * eta_c
    finite_difference = (4 * basin.excess_loss(h / 2) - basin.excess_loss(h)) / h  # O(h²) Richardson
    assert finite_difference == pytest.approx(basin.slope_at_zero(), rel=1e-6)
    assert basin.series_coefficients(1)[0] == pytest.approx(basin.slope_at_zero(), rel=1e-12)
    # negative controls: the constant ½ and the slide's next line (E4: no ¼) are rejected
    mean_sq = np.mean(np.sum(basin.G**2, axis=1))
    assert finite_difference != pytest.approx(0.5 * basin.batch_factor * mean_sq, rel=1e-2)
    assert finite_difference != pytest.approx(basin.batch_factor * mean_sq, rel=1e-2)


@SETTINGS
@given(basins(max_batch_with_replacement=1, samplings=("with_replacement",)))
def test_theorem_batch_one_with_replacement_is_quarter_mean_squared_gradient(basin):
    quarter_mean_sq = 0.25 * np.mean(np.sum(basin.G**2, axis=1))
    assert basin.slope_at_zero() == pytest.approx(quarter_mean_sq, rel=1e-12, abs=1e-300)


# ------------------------------------------------------------------ series, B3, B5


def polynomial_fit_coefficients(basin, count):
    """a_1..a_count from an exact-interpolation fit of excess(η)/η at 8 small η (finite differences)."""
    eta = basin.stability_limit() * 1e-2 * np.arange(1, 9)
    vandermonde = np.vander(eta, 8, increasing=True)
    return np.linalg.solve(vandermonde, basin.excess_loss(eta) / eta)[:count]


@pytest.mark.parametrize(
    ("seed", "n", "d", "B", "sampling"),
    [(3, 3, 1, 1, "with_replacement"), (4, 4, 2, 2, "without_replacement"), (5, 5, 3, 2, "with_replacement")],
)
def test_series_coefficients_match_finite_differences(seed, n, d, B, sampling):
    basin = random_basin(seed, n, d, B, sampling)
    series = basin.series_coefficients(3)
    fitted = polynomial_fit_coefficients(basin, 3)
    eta_c = basin.stability_limit()
    for k, (a, b) in enumerate(zip(series, fitted)):
        assert abs(a - b) <= 1e-6 * basin.slope_at_zero() / eta_c**k


@SETTINGS
@given(basins(), st.floats(0.05, 0.95))
def test_symbolic_excess_loss_matches_numeric_and_series(basin, fraction):
    assume(has_noise(basin))
    expr = symbolic_excess_loss(basin, ETA)
    numerator, denominator = sympy.fraction(sympy.cancel(expr))
    assert sympy.Poly(numerator, ETA).degree() <= basin.d * (basin.d + 1) // 2
    eta = fraction * basin.stability_limit()
    exact = float(expr.subs(ETA, sympy.Rational(repr(eta))))
    assert exact == pytest.approx(basin.excess_loss(eta), rel=1e-9)
    series = sympy.series(expr, ETA, 0, 4).removeO()
    coefficients = [float(series.coeff(ETA, k)) for k in (1, 2, 3)]
    assert float(series.coeff(ETA, 0)) == 0.0
    eta_c = basin.stability_limit()
    for k, (a, b) in enumerate(zip(basin.series_coefficients(3), coefficients)):
        assert abs(a - b) <= 1e-9 * max(abs(b), basin.slope_at_zero() / eta_c**k)


@SETTINGS
@given(basins(), st.floats(0.05, 0.95))
def test_extrapolation_and_its_error_coefficient(basin, fraction):
    assume(has_noise(basin))
    eta_c = basin.stability_limit()
    eta = fraction * eta_c
    expected = 2 * basin.excess_loss(eta / 2) - basin.excess_loss(eta)
    assert basin.extrapolation(eta) == pytest.approx(expected, rel=1e-12)
    a1, a2 = basin.series_coefficients(2)
    c2 = basin.extrapolation_error_coefficient()
    assert c2 == pytest.approx(-a2 / 2, rel=1e-12) and c2 <= 0.0
    small = 1e-4 * eta_c
    assert basin.extrapolation(small) / small**2 == pytest.approx(c2, rel=1e-3, abs=1e-9 * a1 / eta_c)


@SETTINGS
@given(basins(), st.floats(0.05, 0.9))
def test_local_loglog_slope_is_exact_derivative_and_tends_to_one(basin, fraction):
    assume(has_noise(basin))
    eta_c = basin.stability_limit()
    eta, step = fraction * eta_c, 1e-4
    log_excess = [np.log(basin.excess_loss(eta * np.exp(s))) for s in (-step, step)]
    central = (log_excess[1] - log_excess[0]) / (2 * step)
    assert basin.local_loglog_slope(eta) == pytest.approx(central, rel=1e-6)
    # S(η)/η has a power series with PSD coefficients, so the slope never drops below 1
    assert basin.local_loglog_slope(eta) >= 1.0 - 1e-12
    assert basin.local_loglog_slope(1e-8 * eta_c) == pytest.approx(1.0, abs=1e-6)


def test_vectorised_evaluation_matches_scalar_calls():
    basin = random_basin(6, 4, 2, 2, "without_replacement")
    etas = basin.stability_limit() * np.array([[0.1, 0.2], [0.5, 0.9]])
    methods = (basin.excess_loss, basin.proof_identity_rhs, basin.extrapolation, basin.local_loglog_slope)
    for method in methods:
        values = method(etas)
        assert values.shape == etas.shape
        assert np.array_equal(values, np.vectorize(method)(etas))
        assert isinstance(method(float(etas[0, 0])), float)


# ------------------------------------------------------------ symbolic derivations


DERIVE_CASES = [
    (7, 3, 1, 1, "with_replacement"),
    (8, 4, 2, 1, "with_replacement"),
    (9, 4, 2, 2, "without_replacement"),
    (10, 3, 2, 3, "with_replacement"),
]


@pytest.fixture(scope="module", params=DERIVE_CASES, ids=lambda c: f"n{c[1]}-d{c[2]}-B{c[3]}-{c[4]}")
def derived(request):
    seed, n, d, B, sampling = request.param
    basin = random_basin(seed, n, d, B, sampling)
    return basin, derive(basin)


def test_derive_proves_theorem_and_proof_identity(derived):
    basin, derivation = derived
    assert derivation["dL/dη at η = 0 − ¼ E‖g_B‖²"] == 0
    assert derivation["L(η) − L(Φ*) − (η/4) E E‖g_B + H_B Δ‖²"] == 0
    assert float(derivation["dL/dη at η = 0"]) == pytest.approx(basin.slope_at_zero(), rel=1e-12)
    series = derivation["series of L(η) − L(Φ*)"].removeO()
    for k, a in enumerate(basin.series_coefficients(2), start=1):
        assert float(series.coeff(ETA, k)) == pytest.approx(a, rel=1e-10)
    eta = 0.3 * basin.stability_limit()
    exact = float(derivation["L(η) − L(Φ*)"].subs(ETA, sympy.Rational(repr(eta))))
    assert exact == pytest.approx(basin.excess_loss(eta), rel=1e-10)


def test_derive_extrapolation_and_errata(derived):
    basin, derivation = derived
    L_star = sympy.Symbol("L_star")
    mean_sq = np.mean(np.sum(basin.G**2, axis=1))

    extrapolation = derivation["2L(η/2) − L(η) − L(Φ*)"].removeO()
    assert extrapolation.coeff(ETA, 0) == 0 and extrapolation.coeff(ETA, 1) == 0
    c2 = basin.extrapolation_error_coefficient()
    assert float(extrapolation.coeff(ETA, 2)) == pytest.approx(c2, rel=1e-10)

    printed_e3 = derivation["printed E3: L(η) − 2L(η/2) − L(Φ*)"].removeO()
    assert printed_e3.coeff(ETA, 0) == -2 * L_star  # the printed form estimates −L(Φ*)
    assert sympy.expand(printed_e3 + 2 * L_star + extrapolation) == 0

    printed_e4 = derivation["printed E4: L(η) − [L(Φ*) + η E_i‖g_i‖²]"].removeO()
    assert float(printed_e4.coeff(ETA, 1)) == pytest.approx((basin.batch_factor / 4 - 1) * mean_sq, rel=1e-12)
    assert printed_e4.coeff(ETA, 1) != 0
    corrected_e4 = derivation["corrected E4: L(η) − [L(Φ*) + (η/4) E‖g_B‖²]"].removeO()
    assert corrected_e4.coeff(ETA, 0) == 0 and corrected_e4.coeff(ETA, 1) == 0


def test_derive_stability_limit_and_rendering(derived):
    basin, derivation = derived
    assert float(derivation["η_c"].evalf(30)) == pytest.approx(basin.stability_limit(), rel=1e-12)
    polynomial = sympy.Poly(derivation["det(K − ηM) on symmetric S"], ETA)
    below = sympy.Rational(repr(basin.stability_limit() * (1 - 1e-9)))
    above = sympy.Rational(repr(basin.stability_limit() * (1 + 1e-9)))
    assert polynomial.count_roots(0, below) == 0
    assert polynomial.count_roots(below, above) == 1
    text, latex = derivation.text(), derivation.latex()
    for title, _ in derivation.steps:
        assert title in text and title in latex
    assert "\\frac" in latex


def test_derivation_container():
    derivation = Derivation("demo")
    derivation.add("x", sympy.Integer(1))
    assert derivation["x"] == 1
    with pytest.raises(ValueError, match="title"):
        derivation.add("x", sympy.Integer(2))
    with pytest.raises(KeyError, match="no step"):
        derivation["y"]


@SETTINGS
@given(basins(dims=[1]), st.floats(0.05, 0.95))
def test_general_1d_derivation_matches_numeric_class(basin, fraction):
    assume(has_noise(basin))
    derivation = general_1d_derivation()
    m_h, m_h2, s = sympy.symbols("m_h m_h2 s", positive=True)
    values = {
        m_h: sympy.Rational(repr(float(basin.mean_hessian[0, 0]))),
        m_h2: sympy.Rational(repr(float(basin.batch_hessian_kron_moment[0, 0]))),
        s: sympy.Rational(repr(float(basin.batch_gradient_covariance[0, 0]))),
    }
    eta = fraction * basin.stability_limit()
    excess = derivation["L(η) − L(Φ*)"].subs(values).subs(ETA, sympy.Rational(repr(eta)))
    assert float(excess) == pytest.approx(basin.excess_loss(eta), rel=1e-10)
    assert float(derivation["η_c"].subs(values)) == pytest.approx(basin.stability_limit(), rel=1e-12)
    slope = float(derivation["dL/dη at η = 0"].subs(values))
    assert slope == pytest.approx(basin.slope_at_zero(), rel=1e-12)
    c2 = derivation["2L(η/2) − L(η) − L(Φ*)"].removeO().coeff(ETA, 2).subs(values)
    assert float(c2) == pytest.approx(basin.extrapolation_error_coefficient(), rel=1e-10)


def test_general_1d_derivation_steps():
    derivation = general_1d_derivation()
    m_h, m_h2, s = sympy.symbols("m_h m_h2 s", positive=True)
    assert sympy.cancel(derivation["S(η)"] - ETA * s / (2 * m_h - ETA * m_h2)) == 0
    assert derivation["dL/dη at η = 0"] == s / 4
    assert derivation["dL/dη at η = 0 − s/4"] == 0
    assert derivation["L(η) − L(Φ*) − (η/4)(s + m_h2 S)"] == 0
    assert sympy.simplify(derivation["η_c"] - 2 * m_h / m_h2) == 0
    expected = -s * m_h2 / (16 * m_h) * ETA**2
    assert sympy.simplify(derivation["2L(η/2) − L(η) − L(Φ*)"].removeO() - expected) == 0


@pytest.mark.parametrize("d", [1, 2, 3])
def test_general_perturbative_derivation_proves_theorem(d):
    derivation = general_perturbative_derivation(d)
    assert derivation["½ tr(H̄ S_1) − ¼ tr(C)"] == 0
    C = [sympy.Symbol(f"C_{j}{j}", real=True) for j in range(1, d + 1)]
    assert sympy.expand(derivation["½ tr(H̄ S_1)"] - sum(C) / 4) == 0
    assert "tr" in derivation.text()


# ---------------------------------------------------------------------- bad inputs


def good_data():
    basin = random_basin(11, 3, 2)
    return np.array(basin.G), np.array(basin.H)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda G, H: (G[0], H, {}), r"^G must be a non-empty 2-D array"),
        (lambda G, H: (np.where(G == G[0, 0], np.nan, G), H, {}), r"^G must contain only finite"),
        (lambda G, H: (G, H[:, :1, :], {}), r"^H must have shape \(n, d, d\)"),
        (lambda G, H: (G, H[0], {}), r"^H must be a non-empty 3-D array"),
        (lambda G, H: (G, H + np.triu(np.ones((2, 2)), 1), {}), r"^H must hold symmetric"),
        (lambda G, H: (G, np.where(np.isfinite(H), H, 0) * np.inf, {}), r"^H must contain only finite"),
        (lambda G, H: (G + 1.0, H, {}), r"^G must have zero mean.*[Rr]ecentre at the minimiser"),
        (lambda G, H: (G, -H, {}), r"^H must have a positive definite mean.*smallest eigenvalue is -"),
        (lambda G, H: (G, H, {"batch_size": 0}), r"^batch_size must be >= 1"),
        (
            lambda G, H: (G, H, {"batch_size": 4, "sampling": "without_replacement"}),
            r"^batch_size must be in 1\.\.n = 1\.\.3",
        ),
        (lambda G, H: (G, H, {"batch_size": 2.0}), r"^batch_size must be an int"),
        (lambda G, H: (G, H, {"batch_size": True}), r"^batch_size must be an int"),
        (lambda G, H: (G, H, {"sampling": "bootstrap"}), r"^sampling must be one of"),
    ],
)
def test_bad_constructor_inputs_name_the_parameter(mutate, match):
    G, H, kwargs = mutate(*good_data())
    with pytest.raises(ValueError, match=match):
        QuadraticBasin(G, H, **kwargs)


@pytest.mark.parametrize("eta", [0.0, -0.1, float("nan"), "fast"])
def test_bad_eta_names_eta_and_range(eta):
    basin = random_basin(12, 3, 2)
    with pytest.raises(ValueError, match=r"^eta must"):
        basin.excess_loss(eta)


def test_eta_at_or_above_stability_limit_is_rejected():
    basin = random_basin(13, 3, 2)
    eta_c = basin.stability_limit()
    methods = (
        basin.stationary_second_moment,
        basin.excess_loss,
        basin.extrapolation,
        basin.local_loglog_slope,
    )
    for method in methods:
        with pytest.raises(ValueError, match=r"eta must lie in the open interval \(0, eta_c\)"):
            method(eta_c * 1.01)


def test_bad_order_and_dimension_arguments():
    basin = random_basin(14, 3, 2)
    with pytest.raises(ValueError, match=r"^order must be an int >= 1"):
        basin.series_coefficients(0)
    with pytest.raises(ValueError, match=r"^d must be an int in 1\.\.3"):
        general_perturbative_derivation(4)
    with pytest.raises(ValueError, match="use the numeric QuadraticBasin"):
        symbolic_excess_loss(random_basin(15, 3, 5))
    with pytest.raises(ValueError, match=r"^basin must be a QuadraticBasin"):
        derive("not a basin")


def test_instances_are_immutable_and_hold_symmetrised_copies():
    G, H = good_data()
    H[0, 0, 1] += 1e-14
    basin = QuadraticBasin(G, H)
    assert np.array_equal(basin.H, basin.H.transpose(0, 2, 1))
    G[0, 0] = 99.0
    assert basin.G[0, 0] != 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        basin.batch_size = 2
    with pytest.raises(ValueError, match="read-only"):
        basin.G[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        basin.mean_hessian[0, 0] = 1.0
