import numpy as np
import pytest
import torch

from lla.errors import ParameterError
from lla.nn.char_encoder import (BOW, EOW, N_SPECIAL, PAD, UNK_WORD, CharInputEncoder,
                                 CharWordEncoder, build_char_table)
from lla.nn.dynamics import START, Dynamics

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


TYPES = ["<unk>", "the", "a", "cat", "tête", "50"]


def make_encoder(types=TYPES, seed=0, **kw):
    chars, table, lengths = build_char_table(types, **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CharWordEncoder(len(chars), 5, 4, 6, char_table=(table, lengths)), chars, table


def test_char_table_marks_unk_and_alphabet():
    chars, table, lengths = build_char_table(TYPES)
    assert chars[:N_SPECIAL] == ["<pad>", "<w>", "</w>", "<unk>"]
    assert chars[N_SPECIAL:] == sorted(set("theacattête50"))
    assert table.shape == (6, len("tête") + 2) and table.dtype == np.int64
    assert list(table[0, :3]) == [BOW, UNK_WORD, EOW] and lengths[0] == 3  # <unk>: own symbol
    cat = [chars[i] for i in table[3, 1:4]]
    assert cat == ["c", "a", "t"] and table[3, 0] == BOW and table[3, 4] == EOW
    assert table[3, 5] == PAD and lengths[3] == 5
    assert [chars[i] for i in table[5, 1:3]] == ["5", "0"]  # item ids: their characters


def test_char_table_truncates_long_words():
    chars, table, lengths = build_char_table(["<unk>", "abcdefgh"], max_word_length=3)
    assert lengths[1] == 5 and [chars[i] for i in table[1, 1:4]] == ["a", "b", "c"]
    with pytest.raises(ParameterError):
        build_char_table(TYPES, max_word_length=0)


def _manual_direction(enc, ids, suffix):
    """Run one direction of the character LSTM by hand over the symbol ids (1-d)."""
    lstm = enc.lstm
    w_ih, w_hh = getattr(lstm, "weight_ih_l0" + suffix), getattr(lstm, "weight_hh_l0" + suffix)
    b = getattr(lstm, "bias_ih_l0" + suffix) + getattr(lstm, "bias_hh_l0" + suffix)
    h = torch.zeros(lstm.hidden_size)
    c = torch.zeros(lstm.hidden_size)
    for i in ids:
        g = w_ih @ enc.char_embedding.weight[i] + w_hh @ h + b
        i_, f, gg, o = g.chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i_) * torch.tanh(gg)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


def test_encoding_is_final_forward_plus_final_backward_state():
    enc, chars, table = make_encoder()
    with torch.no_grad():
        out = enc(torch.arange(len(TYPES)))
        for v, word in enumerate(TYPES):
            n = 3 if v == 0 else len(word) + 2
            ids = table[v, :n]
            s_f = _manual_direction(enc, ids, "")               # forward, after </w>
            s_b = _manual_direction(enc, ids[::-1], "_reverse")  # backward, after <w>
            H = enc.lstm.hidden_size
            D_f, D_b = enc.combine.weight[:, :H], enc.combine.weight[:, H:]
            expected = D_f @ s_f + D_b @ s_b + enc.combine.bias
            torch.testing.assert_close(out[v], expected, rtol=1e-5, atol=1e-6)


def test_padding_does_not_change_a_word():
    # "a" encoded alone (no padding) and in a batch with a longer word (padded) agree
    enc, _, _ = make_encoder()
    with torch.no_grad():
        alone = enc(torch.tensor([2]))
        batch = enc(torch.tensor([4, 2]))
    torch.testing.assert_close(alone[0], batch[1], rtol=1e-5, atol=1e-6)


def test_each_distinct_type_encoded_once_and_any_shape():
    enc, _, _ = make_encoder()
    seen = []
    enc.char_embedding.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape))
    ids = torch.tensor([[1, 3, 1, 1], [3, 5, 1, 3], [5, 5, 5, 1]])   # 12 tokens, 3 types
    with torch.no_grad():
        out = enc(ids)
    assert out.shape == (3, 4, 6)
    assert len(seen) == 1 and seen[0][0] == 3          # 3 character sequences, not 12
    assert seen[0][1] == len("cat") + 2                # trimmed to the batch's longest word
    with torch.no_grad():
        single = enc(torch.tensor([1, 3, 5]))
    torch.testing.assert_close(out[0, 1], single[1])
    torch.testing.assert_close(out[2, 0], single[2])
    torch.testing.assert_close(out[1, 2], single[0])


def test_gradients_reach_every_parameter():
    enc, _, _ = make_encoder()
    enc(torch.tensor([[1, 2], [3, 4]])).pow(2).sum().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_encode_all_matches_forward_and_buffers_are_not_parameters():
    enc, _, table = make_encoder()
    with torch.no_grad():
        torch.testing.assert_close(enc.encode_all(batch_size=4), enc(torch.arange(len(TYPES))))
    names = {n for n, _ in enc.named_parameters()}
    assert "char_ids" not in names and "char_ids" in enc.state_dict()
    assert enc.n_types == len(TYPES)


def test_without_table_forward_raises():
    enc = CharWordEncoder(10, 4, 4, 4)
    with pytest.raises(ParameterError):
        enc(torch.tensor([1]))
    out = enc.encode_chars(torch.tensor([[BOW, 5, EOW]]), torch.tensor([3]))
    assert out.shape == (1, 4)


def test_gradients_reach_the_character_encoder():
    types = ["<unk>", "ab", "ba", "abc", "c"]
    enc = CharInputEncoder(types, 6, char_embedding=3, char_hidden=4)
    d = Dynamics(2, 6, 5, encoder=enc).reset_parameters(torch.Generator().manual_seed(0))
    symbols = torch.tensor([[START, 1, 3, 3], [START, 4, 2, 1]])
    log_theta, _ = d(symbols)
    log_theta[:, :, 0].sum().backward()
    w = enc.words
    for p in (w.char_embedding.weight, w.lstm.weight_ih_l0, w.lstm.weight_ih_l0_reverse,
              w.combine.weight, enc.start):
        assert p.grad is not None and p.grad.abs().sum() > 0
    # characters of no encoded word ("<unk>" symbol, padding) get no gradient
    assert w.char_embedding.weight.grad[0].abs().sum() == 0
    # each distinct type once: the same vectors as encoding every token separately
    x = enc(symbols)
    assert torch.allclose(x[0, 2], x[0, 3]) and torch.allclose(x[0, 0], enc.start)
    assert torch.allclose(enc.table()[3], x[0, 2], atol=1e-6)
