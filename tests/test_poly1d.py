"""PolynomialFiniteSum1D: kernel vs numpy reference, exact excess loss, critical points, bad inputs,
the whole simulator vs a plain-Python loop on the same random stream, and the Langevin noise scale."""

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.polynomial import polynomial as npoly

from reference_paths import compare_with_engine
from reference_rng import Xoshiro
from sgdtheory._kernels.rng import ZIG_FI, ZIG_KI, ZIG_WI
from sgdtheory.errors import SgdTheoryError
from sgdtheory.optimizers import SGD, Adam, HeavyBall, Nesterov, PreconditionedSGD
from sgdtheory.problems import PolynomialFiniteSum1D, reference_batch_gradient
from sgdtheory.sampling import Sampler
from sgdtheory.schedules import Power
from sgdtheory.simulate import simulate, stability_limit

finite = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)
DOUBLE_WELL = [[1.0, 0.0, -2.0, 0.0, 1.0]]  # (w^2 - 1)^2


@st.composite
def polynomials(draw, noise=True):
    n = draw(st.integers(1, 6))
    K = draw(st.sampled_from([2, 4, 6]))
    a = draw(arrays(np.float64, (n, K + 1), elements=finite))
    lead = a[:, -1].mean()
    if not lead > 0.05:
        a[:, -1] += 0.05 + abs(lead) + 0.1
    sd = draw(st.floats(0.0, 2.0)) if noise else 0.0
    return PolynomialFiniteSum1D(a, noise_sd=sd)


def _kernel_gradient(problem, w, idx, state):
    kp = problem.kernel_data()
    g, z = np.empty(1), np.empty(1)
    S = np.array(state, dtype=np.uint64).reshape(1, 4)
    loss = problem.kernel_functions().gradient(kp.A, kp.Hs, kp.v, 1.0 / np.sqrt(len(idx)), np.asarray(idx, dtype=np.int64),
                          len(idx), np.array([w]) - kp.w_star, np.array([w]), g, z, S, 0, ZIG_KI, ZIG_WI, ZIG_FI)
    return g, loss, S[0]


@given(polynomials(), finite, st.data())
def test_batch_gradient_matches_reference(problem, w, data):
    idx = data.draw(st.lists(st.integers(0, problem.n - 1), min_size=1, max_size=5))
    state = [1, 2, 3, 4]
    g, loss, s_after = _kernel_gradient(problem, w, idx, state)
    ref = Xoshiro(state)
    xi = ref.normal() if problem.noise_sd > 0 else None
    g_ref, loss_ref = reference_batch_gradient(problem, [w], idx, xi)
    # rounding scale of the Horner sums: sum_k k |a_ik| |w|^(k-1)
    scale = 1 + np.abs(npoly.polyval(abs(w), npoly.polyder(np.abs(problem.coeffs.T)))).max()
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-13 * scale + 1e-13 * problem.noise_sd)
    lscale = 1 + np.abs(npoly.polyval(abs(w), np.abs(problem.coeffs.T))).max()
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-12, atol=1e-13 * lscale)
    # the stream advanced by exactly the normals used: none when noise_sd = 0
    assert s_after.tolist() == ref.state().tolist()


@given(polynomials(noise=False), finite)
def test_gradients_are_derivatives(problem, w):
    """Per-example gradients and curvatures against exact rational derivatives of sum_k a_k w^k."""
    x = Fraction(w)
    for i in range(problem.n):
        a = [Fraction(c) for c in problem.coeffs[i]]
        d1 = sum(k * a[k] * x ** (k - 1) for k in range(1, len(a)))
        d2 = sum(k * (k - 1) * a[k] * x ** (k - 2) for k in range(2, len(a)))
        s1 = sum(k * abs(a[k]) * abs(x) ** (k - 1) for k in range(1, len(a)))
        s2 = sum(k * (k - 1) * abs(a[k]) * abs(x) ** (k - 2) for k in range(2, len(a)))
        assert abs(problem.gradients(w)[i, 0] - float(d1)) <= 1e-14 * float(1 + s1)
        assert abs(problem.curvatures(w)[i] - float(d2)) <= 1e-14 * float(1 + s2)
    assert problem.gradients([w]).shape == (problem.n, 1)
    assert problem.curvature(w) == pytest.approx(problem.curvatures(w).mean(), rel=1e-12, abs=1e-12)


def _exact_excess(problem, w):
    a = [sum(Fraction(c) for c in col) / problem.n for col in problem.coeffs.T]
    x, r = Fraction(w), Fraction(problem.reference)
    return float(sum(a[k] * (x**k - r**k) for k in range(len(a))))


@given(polynomials(), st.floats(-2, 2), st.sampled_from([1.0, 1e-3, 1e-6]))
def test_excess_loss_observable_is_exact(problem, offset, scale):
    """The engine's excess loss at w0 = reference + offset * scale equals L(w0) - L(reference) computed
    in exact rational arithmetic, to relative precision, also next to the reference where the naive
    difference of two O(1) losses would lose most digits."""
    w0 = problem.reference + offset * scale
    assume(w0 != problem.reference)
    res = simulate(problem, 1e-3, n_steps=1, n_paths=2, w0=[w0], record_steps=[0], check_stability=False)
    exact = _exact_excess(problem, w0)
    # rounding scale: sum_{k>=1} B_k |w0 - ref|^k, B_k = sum_j binom(j, k) |a_j| |ref|^(j-k) bounds the
    # size of the terms that make up the Taylor coefficient b_k (b_0 = L(ref) is not part of it)
    a, r = np.abs(problem.mean_coefficients), abs(problem.reference)
    B = [sum(comb(j, k) * a[j] * r ** (j - k) for j in range(k, len(a))) for k in range(len(a))]
    bound = 1e-13 * sum(B[k] * abs(w0 - problem.reference) ** k for k in range(1, len(a)))
    assert abs(res.record_values[0, 0, 0] - exact) <= bound


def test_excess_loss_has_no_cancellation():
    """Next to the minimum of L = 10 + (w - 1.3)^2 + ..., the naive L(w0) - L(w*) loses ~6 digits; the
    engine's value agrees with exact rational arithmetic to 1e-13 relative."""
    coeffs = npoly.polyadd(npoly.polypow([-1.3, 1.0], 2), [10.0]) + np.array([0, 0, 0, 0.0])[:3]
    coeffs = np.concatenate([coeffs, [0.1, 0.2]])  # + 0.1 w^3 + 0.2 w^4
    p = PolynomialFiniteSum1D([coeffs, coeffs * 1.5])
    w0 = p.reference + 3e-7
    exact = _exact_excess(p, w0)
    res = simulate(p, 1e-3, n_steps=1, n_paths=2, w0=[w0], record_steps=[0])
    assert abs(res.record_values[0, 0, 0] / exact - 1) < 1e-13
    naive = p.loss(w0) - p.loss(p.reference)
    assert abs(naive / exact - 1) > 1e-8


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=3, unique=True), st.floats(0.2, 3.0), st.floats(-2, 2))
def test_local_minima_and_global_minimiser(half_roots, c, shift):
    """L' = c prod_j (w - r_j) with 2m-1 well-separated roots: the minima are r_1, r_3, ...; the global
    minimiser is the minimum of L on a fine grid (refined)."""
    roots = np.sort(np.concatenate([half_roots, np.array(half_roots[:-1]) + 0.37]))
    assume(np.all(np.diff(roots) > 0.1))
    dpoly = c * npoly.polyfromroots(roots)
    coeffs = npoly.polyint(dpoly, k=[shift])
    p = PolynomialFiniteSum1D(np.vstack([coeffs, coeffs + 0.0]))
    np.testing.assert_allclose(p.critical_points(), roots, atol=1e-8)
    np.testing.assert_allclose(p.local_minima(), roots[::2], atol=1e-8)
    grid = np.linspace(roots[0] - 1, roots[-1] + 1, 20001)
    values = npoly.polyval(grid, coeffs)
    assert p.loss(p.global_minimizer()) <= values.min() + 1e-12 * (1 + abs(values.min()))
    assert p.global_minimizer() in p.local_minima() or abs(p.mean_gradient(p.global_minimizer())) < 1e-9
    assert p.reference == p.global_minimizer()


def test_double_well_properties():
    p = PolynomialFiniteSum1D(DOUBLE_WELL)
    assert p.local_minima().tolist() == [-1.0, 1.0] and p.critical_points().tolist() == [-1.0, 0.0, 1.0]
    assert p.reference == -1.0  # equal depths: the leftmost
    assert p.curvature(1.0) == 8.0 and p.mean_hessian.tolist() == [[8.0]]
    assert p.taylor_coefficients(-1.0).tolist() == [0.0, 0.0, 4.0, -4.0, 1.0]
    assert p.gradient_variance(0.5) == 0.0
    two = PolynomialFiniteSum1D([[0, 1, 1], [0, -1, 1], [0, 0, 1]], reference=0.0)
    # per-example gradients 2w + 1, 2w - 1, 2w: variance 2/3 everywhere
    assert two.gradient_variance(0.3) == pytest.approx(2 / 3, rel=1e-14)
    flat = PolynomialFiniteSum1D([[0, 0, 0, 0, 1]])  # w^4: a degenerate minimum
    assert flat.local_minima().size == 0 and flat.global_minimizer() == pytest.approx(0.0, abs=1e-5)
    assert stability_limit(flat, SGD(), Sampler())[0] == np.inf


def test_stability_limit_uses_the_sharpest_minimum():
    # L' = 4 (w + 1)(w)(w - 2) scaled: minima at -1 and 2 with different curvatures
    coeffs = npoly.polyint(npoly.polyfromroots([-1.0, 0.0, 2.0]), k=[0.0])
    p = PolynomialFiniteSum1D([coeffs])
    lam = max(p.curvature(x) for x in p.local_minima())
    assert lam == pytest.approx(6.0)
    for opt, expect in ((SGD(), 2 / lam), (HeavyBall(0.5), 3 / lam), (Nesterov(0.5), 2 * 1.5 / (2 * lam)),
                        (PreconditionedSGD([[2.0]]), 1 / lam)):
        assert stability_limit(p, opt, Sampler(2))[0] == pytest.approx(expect)
    with pytest.raises(SgdTheoryError, match=r"lr = 0.4 is beyond the stability limit: valid range is \(0, 0.333333\)"):
        simulate(p, 0.4, n_steps=10, n_paths=2)
    res = simulate(p, 0.4, n_steps=10, n_paths=2, check_stability=False, w0=[2.0])
    assert res.n_diverged == 0


@pytest.mark.parametrize("make,match", [
    (lambda: PolynomialFiniteSum1D([1.0, 0.0, 1.0]), "coeffs: expected a 2-D array"),
    (lambda: PolynomialFiniteSum1D([[1.0, np.nan, 1.0]]), "coeffs: all entries must be finite"),
    (lambda: PolynomialFiniteSum1D([[1.0, 2.0]]), r"coeffs: expected shape \(n, K\+1\) with degree K >= 2"),
    (lambda: PolynomialFiniteSum1D([[0.0, 0.0, 0.0, 1.0]]), "coeffs: the mean loss must be bounded below: its degree K = 3"),
    (lambda: PolynomialFiniteSum1D([[0.0, 0.0, 1.0], [0.0, 0.0, -2.0]]),
     r"coeffs: .* leading coefficient mean_i a_iK = -0.5 must be > 0"),
    (lambda: PolynomialFiniteSum1D([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]), r"mean_i a_iK = 0 must be > 0"),
    (lambda: PolynomialFiniteSum1D(DOUBLE_WELL, noise_sd=-0.1), r"noise_sd = -0.1 is out of range: valid range is \[0, inf\)"),
    (lambda: PolynomialFiniteSum1D(DOUBLE_WELL, noise_sd=np.inf), "noise_sd: must be finite"),
    (lambda: PolynomialFiniteSum1D(DOUBLE_WELL, reference=np.nan), "reference: must be finite"),
    (lambda: PolynomialFiniteSum1D(DOUBLE_WELL, reference="a"), "reference: expected a number"),
    (lambda: PolynomialFiniteSum1D(DOUBLE_WELL).loss([1.0, 2.0]), r"w: expected a scalar or shape \(1,\)"),
    (lambda: reference_batch_gradient(PolynomialFiniteSum1D(DOUBLE_WELL, noise_sd=1.0), [0.0], [0]),
     "xi: a PolynomialFiniteSum1D with noise_sd > 0 needs"),
    (lambda: simulate(PolynomialFiniteSum1D(DOUBLE_WELL), 0.01, n_steps=5, n_paths=2, w0=[0.0, 1.0]),
     r"w0: expected shape \(1,\)"),
    (lambda: simulate(PolynomialFiniteSum1D(DOUBLE_WELL * 2), 0.01, n_steps=5, n_paths=2,
                      sampler=Sampler(3, "reshuffle")), r"batch_size = 3 is larger than the data set"),
])
def test_bad_inputs(make, match):
    with pytest.raises(SgdTheoryError, match=match):
        make()


def _b7_like(noise_sd=0.0):
    """Mean loss (w^2 - 1)^2 (minima -1 and +1 of equal depth and curvature); L_1,2 = base +- s (w + 1)^3/3,
    L_3 = base, so the per-example gradients agree at -1 and disagree by +-4s at +1 (CLAIMS B7)."""
    base = np.array([1.0, 0.0, -2.0, 0.0, 1.0])
    pert = np.zeros(5)
    pert[:4] = 0.5 * np.array([1.0, 3.0, 3.0, 1.0]) / 3  # s (w + 1)^3 / 3 with s = 0.5
    return PolynomialFiniteSum1D(np.vstack([base + pert, base - pert, base]), noise_sd=noise_sd, reference=1.0)


ENGINE_CASES = [
    (SGD(), "with_replacement", 2, 0.0),
    (SGD(), "with_replacement", 2, 0.7),
    (HeavyBall(0.6), "without_replacement", 2, 0.3),
    (Nesterov(0.5), "reshuffle", 2, 0.0),
    (SGD(), "cyclic", 1, 0.5),
    (Adam(0.8, 0.9), "full", 3, 0.4),
    (SGD(), "full", 3, 0.0),
]


@pytest.mark.parametrize("opt,scheme,batch,noise", ENGINE_CASES)
def test_engine_matches_plain_loop(opt, scheme, batch, noise):
    problem = _b7_like(noise)
    compare_with_engine(problem, Power(0.05, 2.0, 0.6), opt, scheme, batch, [0.4], rtol=1e-10, atol=1e-12)


def test_constant_noise_scale_on_a_quadratic():
    """L = h w^2/2 (n = 1) with gradient noise sigma xi / sqrt(B): SGD is the AR(1) chain
    w <- (1 - eta h) w - eta sigma xi / sqrt(B), stationary variance eta sigma^2 / (B h (2 - eta h))."""
    h, sigma, eta, B = 2.0, 0.8, 0.2, 4
    p = PolynomialFiniteSum1D([[0.0, 0.0, h / 2]], noise_sd=sigma)
    res = simulate(p, eta, sampler=Sampler(B), n_steps=3000, n_paths=256, seed=7, seed_key=(40,),
                   time_average=("dist_sq", "excess_loss"), burn_in=200)
    exact = eta * sigma**2 / (B * h * (2 - eta * h))
    est = res.time_average("dist_sq")
    assert est.contains(exact) and est.half_width < 0.05 * exact
    assert res.time_average("excess_loss").contains(h * exact / 2)
