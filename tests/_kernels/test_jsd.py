import numpy as np
import pytest
from scipy.spatial import distance

from lla._kernels.jsd_ref import jsd_matrix_ref
from lla.interpret.matching import _supports
from lla._kernels.jsd import jsd_matrix


def _smoothed_topics(rng, K, V, beta, density):
    """φ rows (n_wk + β) / (n_k + Vβ) of sparse random counts: dense rows with a floor."""
    counts = rng.poisson(3.0, size=(K, V)) * (rng.random((K, V)) < density)
    return (counts + beta) / (counts.sum(axis=1, keepdims=True) + V * beta)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matches_twin_on_smoothed_topics(seed):
    rng = np.random.default_rng(seed)
    a = _smoothed_topics(rng, 7, 60, 0.01, 0.2)
    b = _smoothed_topics(rng, 5, 60, 0.5, 0.4)
    fast = jsd_matrix(*_supports(a), *_supports(b), 60)
    slow = jsd_matrix_ref(a, b)
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-13)
    # and both are scipy's JSD (its distance is the square root of the divergence)
    ref = distance.jensenshannon(a[:, None, :], b[None, :, :], axis=2) ** 2
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12)


def test_exact_zeros_dense_rows_and_identical_rows():
    rng = np.random.default_rng(3)
    dense = rng.dirichlet(np.ones(40), size=4)        # no repeated minimum: support = V − 1
    sparse = np.zeros((3, 40))                        # unsmoothed: floor 0, disjoint supports
    sparse[0, :5] = 0.2
    sparse[1, 5:10] = 0.2
    sparse[2, :10] = 0.1
    for a, b in ((dense, sparse), (sparse, dense), (sparse, sparse), (dense, dense)):
        fast = jsd_matrix(*_supports(a), *_supports(b), 40)
        np.testing.assert_allclose(fast, jsd_matrix_ref(a, b), rtol=1e-10, atol=1e-13)
    same = jsd_matrix(*_supports(sparse), *_supports(sparse), 40)
    assert same[0, 1] == pytest.approx(np.log(2))    # disjoint supports: the maximum
    np.testing.assert_allclose(np.diag(same), 0.0, atol=1e-15)
