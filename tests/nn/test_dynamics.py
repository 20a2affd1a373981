import numpy as np
import pytest
import torch

from lla.nn.dynamics import START, Dynamics, WordEncoder


def _model(K=4, E=6, H=5, dropout=0.0, seed=0, scale=1.0):
    d = Dynamics(K, E, H, dropout=dropout).reset_parameters(torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(scale)
    return d.eval()


def test_stepper_matches_teacher_forced_forward():
    d = _model(scale=3.0)
    rng = np.random.default_rng(0)
    z = torch.as_tensor(rng.integers(0, 4, size=(3, 9)))
    symbols = torch.cat([torch.full((3, 1), START), z[:, :-1]], dim=1)
    with torch.no_grad():
        ref, _ = d(symbols)
    st = d.stepper()
    state = st.initial_state(3)
    for t in range(9):
        assert torch.allclose(st.log_theta(state), ref[:, t], atol=1e-5)
        state = st.advance(state, z[:, t])
    # a reset row is back at the fresh state: θ_1 again
    state = st.reset(state, torch.tensor([True, False, True]))
    lt = st.log_theta(state)
    assert torch.allclose(lt[0], ref[0, 0], atol=1e-6) and torch.allclose(lt[2], ref[0, 0], atol=1e-6)
    assert not torch.allclose(lt[1], ref[1, 0], atol=1e-3)


@pytest.mark.parametrize("encoder", ["topic", "word"])
def test_stepper_start_symbol_is_x0_for_every_encoder(encoder):
    """Symbol -1 is x_0 (the input table's last row) whatever the encoder: for a word encoder
    that row is V, not K (feeding -1 used to give the embedding of word K)."""
    K, V = 3, 9
    enc = WordEncoder(V, 6) if encoder == "word" else None
    d = Dynamics(K, 6, 5, encoder=enc).reset_parameters(torch.Generator().manual_seed(2)).eval()
    symbols = torch.tensor([[START, 1, START]])
    with torch.no_grad():   # a fresh stepper row has consumed x_0 already
        ref, _ = d(torch.cat([torch.tensor([[START]]), symbols], dim=1))
    st = d.stepper()
    state = st.initial_state(1)
    for t in range(3):
        state = st.advance(state, symbols[:, t])
        assert torch.allclose(st.log_theta(state), ref[:, t + 1], atol=1e-5), t


def test_truncated_bptt_state_carry_equals_full_pass():
    d = _model(scale=2.0)
    z = torch.as_tensor(np.random.default_rng(1).integers(-1, 4, size=(2, 12)))
    with torch.no_grad():
        full, _ = d(z)
        a, state = d(z[:, :5])
        b, _ = d(z[:, 5:], state)
    assert torch.allclose(torch.cat([a, b], dim=1), full, atol=1e-6)


def test_initialisation_is_seeded_and_leaves_global_rng_alone():
    before = torch.get_rng_state().clone()
    a, b, c = _model(seed=3), _model(seed=3), _model(seed=4)
    assert torch.equal(before, torch.get_rng_state())
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(a.proj.weight, c.proj.weight)


def test_dropout_uses_the_given_generator_and_is_off_in_eval():
    d = _model(dropout=0.5)
    symbols = torch.tensor([[START, 0, 1, 2, 3]])
    d.train()
    out1, _ = d(symbols, generator=torch.Generator().manual_seed(7))
    out2, _ = d(symbols, generator=torch.Generator().manual_seed(7))
    out3, _ = d(symbols, generator=torch.Generator().manual_seed(8))
    assert torch.equal(out1, out2) and not torch.equal(out1, out3)
    d.eval()
    e1, _ = d(symbols)
    e2, _ = d(symbols)
    assert torch.equal(e1, e2)
    assert torch.allclose(e1.exp().sum(-1), torch.ones(1, 5))


def test_parameter_count_matches_design():
    # topic-LLA K=50, E=H=128: the reference prototype (docs/corpora.md) had ~145k dense parameters
    d = Dynamics(50, 128, 128)
    assert d.n_parameters() == 50 * 128 + 128 + 4 * 128 * (128 + 128) + 8 * 128 + 50 * 128 + 50
    assert d.n_parameters() == 145_074


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    cpu = _model(scale=2.0)
    gpu = _model(scale=2.0).to("cuda")
    z = torch.tensor([[START, 0, 1, 2, 3, 1]])
    with torch.no_grad():
        assert torch.allclose(cpu(z)[0], gpu(z.cuda())[0].cpu(), atol=1e-4)
