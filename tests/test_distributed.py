"""lla.distributed: sharding, the collectives on numpy arrays, the error agreement between ranks,
and the data-parallel LSTM epoch — in one process (everything is the identity) and on two
processes started by torchrun (gloo)."""

import json

import numpy as np
import pytest
import torch

from lla import Corpus, distributed
from lla.errors import InputError
from lla.nn.training import sharded_plan


# -- one process ----------------------------------------------------------------------------------
def test_balanced_blocks_are_contiguous_deterministic_and_balanced():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=500)
    for W in (1, 2, 3, 7):
        ptr = distributed.balanced_blocks(lengths, W)
        assert ptr[0] == 0 and ptr[-1] == len(lengths) and np.all(np.diff(ptr) >= 0)
        assert np.array_equal(ptr, distributed.balanced_blocks(lengths.copy(), W))
        tokens = np.add.reduceat(lengths, ptr[:-1]) if W > 1 else [lengths.sum()]
        # every block within one document of the ideal share
        assert np.all(np.abs(np.asarray(tokens) - lengths.sum() / W) <= lengths.max())


def test_more_blocks_than_documents_leaves_some_empty():
    ptr = distributed.balanced_blocks([5, 3], 4)
    assert ptr[0] == 0 and ptr[-1] == 2 and len(ptr) == 5 and np.all(np.diff(ptr) >= 0)
    shards = [distributed.shard([5, 3], world=4, rank_=r) for r in range(4)]
    covered = np.concatenate([np.arange(8)[s.tokens] for s in shards])
    assert np.array_equal(covered, np.arange(8))


def test_shard_slices_tokens_of_its_documents():
    lengths = np.array([4, 0, 6, 2, 9, 3])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for r in range(3):
        s = distributed.shard(lengths, world=3, rank_=r)
        assert s.tokens == slice(offsets[s.docs.start], offsets[s.docs.stop])
        assert np.array_equal(s.per_rank(lengths)[r], lengths[s.docs])


def test_one_process_helpers_are_the_identity():
    assert not distributed.is_distributed() and distributed.world_size() == 1
    assert distributed.rank() == 0 and distributed.is_writer()
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert distributed.all_reduce(a) is a and distributed.all_gather(a) is a
    assert distributed.broadcast(a) is a and distributed.any_rank(True)
    distributed.check_agreement(3, "anything")
    with pytest.raises(InputError, match="boom"), distributed.step("a step"):
        raise InputError("boom")
    assert distributed.init() is False  # not launched by torchrun: no process group


def test_timeout_setting_is_checked(monkeypatch):
    monkeypatch.setenv(distributed.TIMEOUT_ENV, "soon")
    with pytest.raises(distributed.DistributedError, match=distributed.TIMEOUT_ENV):
        distributed.timeout_seconds()
    monkeypatch.setenv(distributed.TIMEOUT_ENV, "12.5")
    assert distributed.timeout_seconds() == 12.5


def test_sharded_plan_is_common_and_counts_every_token():
    rng = np.random.default_rng(1)
    shard_lengths = [rng.integers(0, 50, size=n) for n in (9, 4)]
    plan, per = sharded_plan(shard_lengths, batch_size=4, bptt=8)
    assert per == 2 and len(plan) == 5     # rank 0: 9 documents -> 5 buckets of 2
    total = sum(int(n_tokens.sum()) for _, n_tokens in plan)
    assert total == sum(int(x.sum()) for x in shard_lengths)
    for longest, n_tokens in plan:
        assert len(n_tokens) == -(-longest // 8) and np.all(n_tokens > 0)


# -- two processes --------------------------------------------------------------------------------
WORKER = r'''
import contextlib, io, json, sys
import numpy as np
import torch
from lla import distributed as dd
from lla.errors import InputError
from lla.nn.dynamics import Dynamics
from lla.nn.training import train_epoch, train_epoch_sharded

out, corpus = sys.argv[1], sys.argv[2]
assert dd.init() and dd.world_size() == 2
r = dd.rank()
res = {}
res["sum"] = dd.all_reduce(np.array([[r + 1, 10]], dtype=np.int32)).tolist()
res["max"] = dd.all_reduce(np.array([r, -r], dtype=np.float64), "max").tolist()
res["gather"] = dd.all_gather(np.arange(3 * (1 - r), dtype=np.int64)).tolist()
res["gather2d"] = dd.all_gather(np.full((2 - r, 3), r, dtype=np.float32)).tolist()
res["broadcast"] = dd.broadcast(np.array([r + 5])).tolist()
res["any"] = dd.any_rank(r == 1)
try:
    dd.check_agreement(r, "the rank")
except dd.DistributedError as e:
    res["disagree"] = str(e)
try:
    dd.check_same_data("0123456789abcdef" if r == 0 else "fedcba9876543210")
except dd.DistributedError as e:
    res["other_data"] = str(e)
dd.check_same_data("0123456789abcdef")
try:
    with dd.step("a test step"):
        if r == 1:
            raise InputError("boom")
except Exception as e:
    res["step_error"] = [type(e).__name__, str(e)]
with dd.step("a quiet step"):
    res["after"] = "ok"

def fresh(K=4):
    return Dynamics(K, 5, 6).reset_parameters(torch.Generator().manual_seed(0))

def flat(module):
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])

rng = np.random.default_rng(0)
lengths = rng.integers(3, 30, size=8)
z = rng.integers(0, 4, size=int(lengths.sum()))
# one bucket per rank (batch 16 >= documents): the same objective as one process, one minibatch
ref = fresh()
ref_loss = train_epoch(ref, torch.optim.SGD(ref.parameters(), lr=0.5), z, lengths,
                       batch_size=16, bptt=7, rng=np.random.default_rng(1),
                       generator=torch.Generator(), clip=0)
sh = dd.shard(lengths)
mine = fresh()
ddp = dd.data_parallel(mine)
loss = train_epoch_sharded(ddp, torch.optim.SGD(mine.parameters(), lr=0.5), z[sh.tokens],
                           lengths[sh.docs], sh.per_rank(lengths), batch_size=16, bptt=7,
                           order_rng=np.random.default_rng(2), rng=np.random.default_rng(3 + r),
                           generator=torch.Generator(), clip=0)
res["ddp_param_diff"] = float((flat(mine) - flat(ref)).abs().max())
res["ddp_loss"] = [loss, ref_loss]
# uneven: rank 0 has more minibatches than rank 1 (dropout on, Adam, clipping)
uneven = np.array([30, 2, 2, 2, 2, 2, 30, 25])
zz = rng.integers(0, 4, size=int(uneven.sum()))
sh = dd.shard(uneven)
other = Dynamics(4, 5, 6, dropout=0.3).reset_parameters(torch.Generator().manual_seed(1))
ddp2 = dd.data_parallel(other)
train_epoch_sharded(ddp2, torch.optim.AdamW(other.parameters()), zz[sh.tokens],
                    uneven[sh.docs], sh.per_rank(uneven), batch_size=2, bptt=4,
                    order_rng=np.random.default_rng(4), rng=np.random.default_rng(5 + r),
                    generator=torch.Generator().manual_seed(r), clip=1.0)
params = dd.all_gather(flat(other).numpy()[None])
res["uneven_ranks_agree"] = bool(np.array_equal(params[0], params[1]))
res["uneven_docs"] = int(sh.docs.stop - sh.docs.start)

# the CLI under torchrun: models that cannot share training, commands that do not run
from lla.cli.main import main
errors = []
for argv in (["train", corpus, "--model", "unigram", "--out", out + f"/never{r}"],
             ["info", corpus]):
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        code = main(argv)
    errors.append([code, buf.getvalue().strip()])
res["cli"] = errors
with open(f"{out}/rank{r}.json", "w") as f:
    json.dump(res, f)
dd.exit_process(0)
'''


@pytest.fixture(scope="module")
def worker_results(tmp_path_factory, torchrun):
    tmp = tmp_path_factory.mktemp("dist-worker")
    script = tmp / "worker.py"
    script.write_text(WORKER)
    corpus = tmp / "corpus"
    Corpus.from_documents([np.arange(1, 9), np.arange(2, 12)], 12).save(corpus)
    proc = torchrun([script, tmp, corpus], timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads((tmp / f"rank{r}.json").read_text()) for r in range(2)]


def test_collectives_on_two_ranks(worker_results):
    for r, res in enumerate(worker_results):
        assert res["sum"] == [[3, 20]]
        assert res["max"] == [1.0, 0.0]
        assert res["gather"] == [0, 1, 2]                         # rank 1 sends nothing
        assert res["gather2d"] == [[0.0] * 3, [0.0] * 3, [1.0] * 3]
        assert res["broadcast"] == [5] and res["any"] is True
        assert "disagree about the rank" in res["disagree"]
        assert "every machine must hold the same corpus" in res["other_data"]
        assert res["after"] == "ok"  # the group survives an error agreed on


def test_an_error_on_one_rank_is_raised_on_every_rank(worker_results):
    assert worker_results[1]["step_error"] == ["InputError", "boom"]
    name, text = worker_results[0]["step_error"]
    assert name == "DistributedError"
    assert text == "rank 1 of 2 failed during a test step: boom"


def test_ddp_epoch_is_the_one_process_epoch_of_the_joint_minibatch(worker_results):
    """SGD without clipping: a wrong gradient scale (e.g. DDP's mean over ranks not undone)
    would show as a different step; the loss is the mean over all ranks' tokens."""
    for res in worker_results:
        assert res["ddp_param_diff"] < 1e-5
        loss, ref_loss = res["ddp_loss"]
        assert loss == pytest.approx(ref_loss, rel=1e-6)


def test_ddp_epoch_with_uneven_minibatches_ends_with_equal_parameters(worker_results):
    assert worker_results[0]["uneven_docs"] != worker_results[1]["uneven_docs"]
    assert all(res["uneven_ranks_agree"] for res in worker_results)


def test_cli_refuses_what_does_not_run_across_processes(worker_results):
    for r, res in enumerate(worker_results):
        (code, err), (code2, err2) = res["cli"]
        assert code == 2 and len(err.splitlines()) == 1
        assert err == (f"lla train (rank {r} of 2): error: --model unigram does not train "
                       f"across processes: run it without torchrun")
        assert code2 == 2 and "run lla info as one process" in err2


def test_one_process_fit_never_calls_torch_distributed(monkeypatch):
    """Without torchrun the models take today's code path: no collective is ever called."""
    import torch.distributed as dist

    from lla import LDA, TopicLLA, WordLLA
    from lla.data.synthetic import generate

    def forbidden(*args, **kwargs):
        raise AssertionError("torch.distributed called by a single process")

    for name in ("all_reduce", "all_gather", "broadcast", "barrier", "init_process_group"):
        monkeypatch.setattr(dist, name, forbidden)
    corpus = generate(n_docs=12, doc_length=(5, 12), n_topics=2, vocab_size=15, seed=0).corpus
    tiny = {"embedding_size": 4, "hidden_size": 4, "init_lda_iter": 3, "init_lstm_epochs": 1,
            "lstm_epochs_per_iter": 1, "n_iter": 1, "n_threads": 1, "random_state": 0,
            "early_stopping": True}
    LDA(2, n_iter=3, n_threads=1, random_state=0).fit(corpus)
    for cls in (TopicLLA, WordLLA):
        model = cls(2, **tiny).fit(corpus)
        assert np.isfinite(model.perplexity(corpus))
    assert torch.get_num_threads() >= 1
