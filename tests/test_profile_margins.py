"""Tests of the profile's margin probes (``margin-vectors``, ``margin-matrices``), their data
and the matrix max-margin references, against independent references.

The references are checked against second formulations (the Frobenius and max-norm problems
are the vector l2 and l_inf problems of the difference rows; with two classes the spectral
solution is known in closed form); the probes run at the ``smoke`` level (2 datasets),
about a second per optimizer, most of it compilation.
"""

from __future__ import annotations

import numpy as np
import pytest

from implicitbias.datasets import profile_margins as data
from implicitbias.experiments.profile import margin_matrices, margin_vectors
from implicitbias.experiments.profile.base import choose_step, fixed_step, lr_grid
from implicitbias.experiments.profile.config import ProfileConfig
from implicitbias.experiments.profile.probes import get_probe
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.margin_references import REFS, lp_face_width
from implicitbias.theory import angle_degrees, max_margin
from implicitbias.theory import matrix_margins as mm

USER = "user_optim:clipped_gd"  # tests/user_optim.py, on sys.path as tests run


@pytest.fixture(scope="module")
def cfg() -> ProfileConfig:
    return ProfileConfig(level="smoke", seeds=2)


@pytest.fixture(scope="module")
def reports(cfg):
    """``get(probe module, optimizer) -> ProbeReport``, each measured once."""
    cache: dict = {}

    def get(module, name: str):
        if (module, name) not in cache:
            spec = OptimizerSpec.parse(name)
            cache[module, name] = module.measure(cfg, spec, f"test {name}")
        return cache[module, name]

    return get


def _two_class_data(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.default_rng(seed)
    y = np.repeat([0, 1], 6)
    X = rs.standard_normal((12, 3)) + 2.0 * np.where(y[:, None] == 0, 1.0, -1.0)
    return X, y


# ------------------------------------------------------------------------------ references


@pytest.mark.parametrize("name", ["margin-vectors", "margin-matrices"])
def test_probe_is_registered(name):
    module = {"margin-vectors": margin_vectors, "margin-matrices": margin_matrices}[name]
    probe = get_probe(name)
    assert probe is module.PROBE
    assert probe.name == name
    assert probe.levels == ("smoke", "quick", "full")
    assert "first step moves no margin by more than 1" in probe.rule
    assert set(module.STEPS) == {"smoke", "quick", "full"}


def test_matrix_references_match_the_vector_formulations():
    """Frobenius = vector l2 and max norm = vector l_inf max margin of the rows
    (e_y - e_c) (x) x_i; every solution meets its constraints with equality on its support."""
    s = data.matrix_set(0, 0)
    rows = mm.difference_rows(s.X, s.y, s.k)
    ones = np.ones(len(rows))
    fro = mm.matrix_max_margin(s.X, s.y, s.k, "fro")
    l2 = max_margin(rows, ones, "l2")
    # unique (strictly convex); the two interior-point solves agree to ~1e-6 relative
    assert np.linalg.norm(fro.W.ravel() - l2.w) <= 1e-5 * np.linalg.norm(l2.w)
    np.testing.assert_allclose(fro.margin, l2.margin, rtol=1e-6)
    mx = mm.matrix_max_margin(s.X, s.y, s.k, "max")
    np.testing.assert_allclose(mx.margin, max_margin(rows, ones, "linf").margin, rtol=1e-6)
    for norm in mm.MATRIX_NORMS:
        sol = mm.matrix_max_margin(s.X, s.y, s.k, norm)
        margins = mm.pair_margins(sol.W, s.X, s.y)
        np.testing.assert_allclose(
            np.sort(rows @ sol.W.ravel()), np.sort(margins[np.isfinite(margins)])
        )
        assert margins.min() == pytest.approx(1.0, abs=1e-6)  # active at the support
        assert len(sol.support) >= 2
        assert sol.accurate


def test_spectral_reference_with_two_classes_is_half_the_svm():
    """k = 2: ||W||_2 >= ||W^T (e0 - e1)|| / sqrt 2 = ||u|| / sqrt 2 (u = W0 - W1), with
    equality at W = [u/2; -u/2], so the spectral (and Frobenius) solution is the l2 SVM
    halved and its margin sqrt(2) times the SVM's."""
    X, y = _two_class_data()
    svm = max_margin(X, np.where(y == 0, 1.0, -1.0), "l2")
    expected = np.stack([svm.w / 2, -svm.w / 2])
    for norm in ("spectral", "fro"):
        sol = mm.matrix_max_margin(X, y, 2, norm)
        np.testing.assert_allclose(sol.W, expected, atol=1e-6)
        assert sol.margin == pytest.approx(np.sqrt(2) * svm.margin, rel=1e-6)


def test_each_reference_is_smallest_in_its_own_norm():
    """All three solutions are feasible, so each is no larger than the others in its norm;
    centering the rows (which changes no margin) does not beat the spectral one either."""
    s = data.matrix_set(0, 1)
    sols = {n: mm.matrix_max_margin(s.X, s.y, s.k, n) for n in mm.MATRIX_NORMS}
    for norm, sol in sols.items():
        own = mm.matrix_norm(sol.W, norm)
        for other in sols.values():
            assert own <= mm.matrix_norm(other.W, norm) * (1 + 1e-6)
        centered = sol.W - sol.W.mean(axis=0)
        assert mm.matrix_norm(sols["spectral"].W, "spectral") <= mm.matrix_norm(
            centered, "spectral"
        ) * (1 + 1e-6)


def test_max_margin_set_angles():
    """0 on each set; the Frobenius set is its single solution; a spectral solution moved by
    a common row v (orthogonal to its rows: same margins, same spectral norm) is still in the
    spectral set though its angle to the cvxpy point is several degrees."""
    s = data.matrix_set(0, 0)
    for ref in s.sets:
        assert ref.angle(ref.solution.W) < 0.2  # slack 1e-6 blurs by about 0.06 degrees
    W = np.random.default_rng(0).standard_normal(s.solutions[0].shape)
    fro = s.sets[mm.MATRIX_NORMS.index("fro")]
    assert fro.angle(W) == pytest.approx(mm.matrix_angle(W, fro.solution.W), abs=0.2)
    spectral = s.sets[mm.MATRIX_NORMS.index("spectral")]
    Wc = spectral.solution.W - spectral.solution.W.mean(axis=0)
    v = np.random.default_rng(1).standard_normal(Wc.shape[1])
    v -= np.linalg.pinv(Wc) @ (Wc @ v)  # orthogonal to the rows of Wc
    sigma = np.linalg.norm(Wc, 2)
    moved = Wc + 0.5 * sigma / np.sqrt(s.k) * np.outer(np.ones(s.k), v / np.linalg.norm(v))
    assert np.linalg.norm(moved, 2) == pytest.approx(sigma, rel=1e-9)
    np.testing.assert_allclose(mm.pair_margins(moved, s.X, s.y), mm.pair_margins(Wc, s.X, s.y))
    assert mm.matrix_angle(moved, spectral.solution.W) > 5.0
    assert spectral.angle(moved) < 0.3


# ------------------------------------------------------------------------------ datasets


@pytest.mark.parametrize("index", [0, 1])
def test_vector_datasets_have_distinct_unique_references(index):
    s = data.vector_set(0, index)
    assert np.max(np.linalg.norm(s.X, axis=1)) == pytest.approx(1.0)
    dirs = [max_margin(s.X, s.y, norm).direction for norm in REFS]
    np.testing.assert_allclose(np.stack(dirs), s.refs, atol=1e-6)
    pairs = [angle_degrees(dirs[i], dirs[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    assert min(pairs) >= data.MIN_ANGLE_VECTORS
    assert min(pairs) == pytest.approx(s.min_angle, abs=1e-6)
    for norm in ("l1", "linf"):
        assert lp_face_width(s.X, s.y, norm) < 1e-4


@pytest.mark.parametrize("index", [0, 1])
def test_matrix_datasets_keep_the_references_apart(index):
    """Each cvxpy solution is >= 20 degrees from the other two solution sets, hence from the
    other two solutions too."""
    s = data.matrix_set(0, index)
    assert np.max(np.linalg.norm(s.X, axis=1)) == pytest.approx(1.0)
    assert set(np.unique(s.y)) == set(range(s.k))
    off = ~np.eye(3, dtype=bool)
    assert np.all(s.separation[off] >= data.MIN_ANGLE_MATRICES)
    points = np.array([[mm.matrix_angle(a, b) for b in s.solutions] for a in s.solutions])
    assert np.all(points[off] >= s.separation[off] - 0.1)  # the set holds its solution


def test_datasets_are_deterministic_per_seed_and_index():
    before = data.vector_set(0, 1)
    data.vector_set.cache_clear()
    after = data.vector_set(0, 1)
    assert before is not after
    np.testing.assert_array_equal(before.X, after.X)
    assert before.attempt == after.attempt
    assert not np.array_equal(data.vector_set(1, 1).X, after.X)
    X, _ = data.draw_matrices(np.random.default_rng((0, 2, 0, 0)))
    assert X.shape == (24, 6)


# ------------------------------------------------------------------------------ step rule


def test_fit_mask():
    loss = np.array([0.5e-2, 0.0, 0.5e-2, 0.5e-2, 0.02, np.nan])
    margin = np.array([0.1, 0.1, -0.1, 0.1, 0.1, 0.1])
    move = np.array([0.5, 0.5, 0.5, 1.5, 0.5, 0.5])
    fits = margin_vectors.fit_mask(loss, margin, move, 1.0)
    np.testing.assert_array_equal(fits, [True, False, False, False, False, False])


def test_schedule_choice_prefers_the_decay_and_falls_back_to_a_constant_step():
    grid = lr_grid(2.0**-3, 2.0**0)  # 4 steps
    loss = np.ones((2, 4, 2))
    fits = np.zeros((2, 4, 2), bool)
    fits[1, :3] = True  # only the constant step fits, up to 0.5
    k, step = margin_vectors.choose_schedule_step(grid, fits, loss, margin_vectors.SCHEDULES, "fit")
    assert k == 1 and step.learning_rate == 0.25 and step.fitted
    assert step.rule.startswith("constant step (decaying step: no grid step fits")
    assert step.index == choose_step(grid, fits[1], loss[1], fit_words="fit").index
    fits[0, 1] = True  # one decaying step fits: the decay is measured, at that step
    k, step = margin_vectors.choose_schedule_step(grid, fits, loss, margin_vectors.SCHEDULES, "fit")
    assert k == 0 and step.learning_rate == 0.25 and step.rule.startswith("eta_t = eta")


def test_schedule_members():
    spec, schedules = margin_vectors.schedule_members(OptimizerSpec.parse("sign_gd"))
    assert schedules == ("decaying", "constant") and spec.kwargs["schedule"] == "inverse_sqrt"
    spec, schedules = margin_vectors.schedule_members(OptimizerSpec.parse(USER))
    assert schedules == ("constant",) and spec == OptimizerSpec.parse(USER)
    own = OptimizerSpec.parse("gd(schedule=increasing)")
    assert margin_vectors.schedule_members(own) == (own, ("increasing",))
    hparams, seed = margin_vectors.batch_hparams(np.array([0.5, 1.0]), 3, ("decaying", "constant"))
    np.testing.assert_array_equal(seed, np.tile(np.arange(3), 4))
    np.testing.assert_array_equal(hparams["learning_rate"], np.tile(np.repeat([0.5, 1.0], 3), 2))
    np.testing.assert_array_equal(hparams["offset"], np.repeat([1.0, 1e12], 6))


# ------------------------------------------------------------------------------ the probes


def test_gd_vectors_ends_nearest_l2(reports, cfg):
    """Measured at smoke (2000 steps, constant step 2): 8.4 and 9.0 degrees from l2, 21-45
    from l1 and l_inf."""
    report = reports(margin_vectors, "gd")
    scalars = report.to_scalars()
    assert report.nearest == ["l2", "l2"]
    assert scalars["fitted"] and "constant step" in report.rule
    angles = {m.quantity: np.asarray(m.values) for m in report.measures}
    np.testing.assert_allclose(angles["angle_nearest"], angles["angle_l2"])
    assert np.all(angles["angle_l2"] < 15)  # measured 8.4, 9.0
    assert np.all(np.minimum(angles["angle_l1"], angles["angle_linf"]) > 15)


def test_gd_vectors_matches_an_independent_gradient_descent(reports, cfg):
    """The engine's final direction on dataset 0 is that of plain NumPy GD at the same
    constant step (an independent oracle, 2000 steps of a 10 x 8 problem)."""
    report = reports(margin_vectors, "gd")
    s = data.vector_set(cfg.seed, 0)
    w = np.zeros(s.X.shape[1])
    Z = s.y[:, None] * s.X
    for _ in range(margin_vectors.STEPS["smoke"]):
        w += report.learning_rate * Z.T @ np.exp(-Z @ w) / len(Z)
    expected = angle_degrees(w, s.refs[REFS.index("l2")])
    assert report.measures[0].values[0] == pytest.approx(expected, abs=1e-6)


def test_first_step_angles_are_those_of_the_first_gradient(reports, cfg):
    """From w0 = 0 GD's first step is along -grad L(0) = mean_i y_i x_i (any step size): the
    probe's first-step angles (the baseline of the margin claims) are that direction's
    angles to the references, on every dataset. The matrix probe reports them too."""
    report = reports(margin_vectors, "gd")
    values = {m.quantity: np.asarray(m.values) for m in report.measures}
    for k in range(cfg.seeds):
        s = data.vector_set(cfg.seed, k)
        g = (s.y[:, None] * s.X).mean(axis=0)
        for i, r in enumerate(REFS):
            assert values[f"first_angle_{r}"][k] == pytest.approx(
                angle_degrees(g, s.refs[i]), abs=1e-6
            )
    # GD moved toward l2 from its first step on every smoke dataset
    assert np.all(values["angle_l2"] < values["first_angle_l2"])
    muon = {m.quantity: np.asarray(m.values) for m in reports(margin_matrices, "muon").measures}
    for n in mm.MATRIX_NORMS:
        assert muon[f"first_angle_{n}"].shape == (cfg.seeds,)
        assert np.all(np.isfinite(muon[f"first_angle_{n}"]))


def test_sign_gd_vectors_ends_nearest_linf(reports):
    """Measured at smoke: 8.4 and 3.3 degrees from l_inf with the decaying step."""
    report = reports(margin_vectors, "sign_gd")
    assert report.nearest == ["linf", "linf"]
    assert report.rule.startswith("eta_t = eta / sqrt(t + 1)")
    assert report.measures[0].values.max() < 15


@pytest.mark.parametrize("module", [margin_vectors, margin_matrices])
def test_a_users_factory_runs_through_the_probe(reports, module):
    report = reports(module, USER)
    scalars = report.to_scalars()
    assert np.all(np.isfinite(report.measures[0].values))
    assert set(report.nearest) <= set(report.references)
    assert report.rule.startswith("constant step;")
    assert any("one schedule (constant)" in note for note in report.notes)
    assert scalars["nearest"]["n"] == 2


def test_matrix_probe_gd_and_muon(reports):
    """Measured at smoke: GD nearest the Frobenius set (23.0, 16.3 degrees), Muon nearest the
    spectral set (17.6, 17.3 degrees; Frobenius 43.4, 24.1). No normalized margin exceeds its
    maximum (an independent check that the cvxpy references are optimal)."""
    gd, muon = reports(margin_matrices, "gd"), reports(margin_matrices, "muon")
    assert gd.nearest == ["fro", "fro"]
    assert muon.nearest == ["spectral", "spectral"]
    for report in (gd, muon):
        values = {m.quantity: np.asarray(m.values) for m in report.measures}
        assert report.measures[0].quantity == "angle_nearest"
        for norm in mm.MATRIX_NORMS:
            assert np.all(values[f"margin_{norm}"] <= 1 + 1e-6)
            assert np.all(values[f"margin_{norm}"] > 0)
        assert report.arrays["point_angles"].shape == (2, 3)


def test_a_fixed_step_is_measured_alone(cfg):
    with fixed_step(0.125):
        report = margin_vectors.measure(cfg, OptimizerSpec.parse("sign_gd"), "fixed")
    assert report.learning_rate == 0.125
    assert "fixed by the user: learning_rate = 0.125" in report.rule
    assert report.step.grid.tolist() == [0.125]
