"""The fused teacher-forced pass of word-/char-LLA and the SE-step on top of it."""

import numpy as np
import pytest
import torch

from lla.inference.fused import fused_log_theta, fused_se_step
from lla.nn.dynamics import START, Dynamics, WordEncoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


@pytest.mark.parametrize("recurrence", ["table", "torch"])
def test_fused_pass_equals_one_forward_per_document(recurrence, word_dynamics):
    d = word_dynamics()
    rng = np.random.default_rng(0)
    lengths = np.array([9, 0, 4, 13, 1, 6])
    words = rng.integers(0, 7, lengths.sum())
    ptr = np.concatenate([[0], np.cumsum(lengths)])
    got = torch.full((lengths.sum(), 3), float("nan"))
    seen = 0
    # small batches / few slots and short windows: several batches (torch) or documents
    # following each other in a slot (table), several windows with the state carried
    for index, log_theta in fused_log_theta(d, words, lengths, batch_tokens=20, window=4,
                                            n_slots=2, recurrence=recurrence):
        keep = index >= 0
        got[index[keep]] = log_theta[keep]
        seen += int(keep.sum())
    assert seen == lengths.sum()
    for doc in range(len(lengths)):
        w = torch.as_tensor(words[ptr[doc]:ptr[doc + 1]])
        if len(w) == 0:
            continue
        with torch.no_grad():
            ref, _ = d(torch.cat([torch.tensor([START]), w[:-1]])[None, :])
        assert torch.allclose(got[ptr[doc]:ptr[doc + 1]], ref[0], atol=1e-5)


def test_fused_se_step_samples_the_exact_conditional():
    K, V, n = 3, 6, 5
    d = Dynamics(K, 4, 5, encoder=WordEncoder(V, 4))
    d.reset_parameters(torch.Generator().manual_seed(0)).eval()
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(4.0)
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.full(V, 0.7), size=K)                    # (K, V)
    doc = np.array([2, 5, 2, 0, 3])
    copies = 3000
    z = fused_se_step(d, torch.as_tensor(np.log(phi.T), dtype=torch.float32),
                      np.tile(doc, copies), np.full(copies, n), torch.Generator().manual_seed(1))
    z = z.reshape(copies, n)
    for t in range(n):
        pi = np.exp(d.log_theta_of_history(doc[:t]).double().numpy()) * phi[:, doc[t]]
        pi /= pi.sum()
        freq = np.bincount(z[:, t], minlength=K) / copies
        assert np.abs(freq - pi).max() < 0.035, (t, freq, pi)      # ~4 standard errors
