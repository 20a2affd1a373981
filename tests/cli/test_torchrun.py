"""`lla train` / `lla evaluate` as one job of two processes (torchrun, gloo on the CPU) on a small
synthetic corpus: the model equals a one-process model within noise, counts equal a recount of
z, runs reproduce and resume bit for bit, a killed or stuck rank ends the job with one line, and
one process under torchrun is today's code path."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import lla
from lla import LDA, Corpus, TopicLLA, WordLLA, load_model
from lla.cli.main import main
from lla.data.synthetic import generate
from lla.distributed import shard
from lla.inference.counts import topic_counts, topic_word

TINY = {"embedding_size": 8, "hidden_size": 12, "init_lda_iter": 30, "init_lstm_epochs": 3,
        "lstm_epochs_per_iter": 2, "batch_size": 16, "n_threads": 1}
TINY_FLAGS = ["--topics", "3", "--embedding", "8", "--hidden", "12", "--init-lda-iterations",
              "30", "--init-lstm-epochs", "3", "--lstm-epochs", "2", "--batch-size", "16",
              "--threads", "1"]
ITERATIONS, SEED = 4, 11


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    data = generate(n_docs=120, doc_length=(20, 40), n_topics=3, vocab_size=60, beta=0.1,
                    strength=6.0, min_lag=1, max_lag=2, seed=3)
    path = tmp_path_factory.mktemp("torchrun") / "corpus"
    data.corpus.save(path)
    return path


def _train(torchrun, corpus_dir, out, *flags, nproc=2):
    proc = torchrun(["-m", "lla", "train", corpus_dir, *flags, "--out", out], nproc=nproc)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def topic_run(corpus_dir, torchrun):
    """topic-LLA, 2 processes, checkpoints: (model dir, checkpoint dir)."""
    base = corpus_dir.parent
    _train(torchrun, corpus_dir, base / "topic2", "--model", "topic-lla", *TINY_FLAGS,
           "--iterations", ITERATIONS, "--seed", SEED, "--checkpoint-dir", base / "ck2")
    return base / "topic2", base / "ck2"


def _prediction_interval(samples, level=0.99):
    """Half-width of the two-sided prediction interval of one new draw from the distribution
    of ``samples`` (Student t): the tolerance comes from the spread of the samples."""
    samples = np.asarray(samples, dtype=np.float64)
    n = len(samples)
    t = stats.t.ppf(0.5 + level / 2, df=n - 1)
    return samples.mean(), t * samples.std(ddof=1) * np.sqrt(1 + 1 / n)


def _recount_ok(model, corpus):
    words, _, _ = corpus.prefix_arrays()
    return np.array_equal(model.n_wk_, topic_counts(words, model.z_, corpus.n_types,
                                                    model.n_wk_.shape[1]))


def test_counts_after_the_all_reduce_equal_a_recount_of_z(topic_run, corpus_dir):
    corpus = Corpus.open(corpus_dir)
    for path in topic_run:
        model = load_model(path)
        assert model.n_iter_done_ == ITERATIONS and _recount_ok(model, corpus)
        # φ's average over the SE-steps after training holds every rank's tokens (all-reduced
        # after each step), not one rank's half
        assert model.n_averaged_ == model.n_average > 0
        assert model.n_wk_mean_.sum() == pytest.approx(len(corpus.prefix_arrays()[0]), rel=1e-6)


def test_two_process_topic_lla_is_within_noise_of_one_process(topic_run, corpus_dir):
    corpus = Corpus.open(corpus_dir)
    one = [TopicLLA(3, n_iter=ITERATIONS, random_state=s, **TINY).fit(corpus).perplexity(corpus)
           for s in range(6)]
    mean, tol = _prediction_interval(one)
    model = load_model(topic_run[0])
    assert abs(model.perplexity(corpus) - mean) <= tol, (model.perplexity(corpus), one)
    # power: the model rank 0 would keep without the count all-reduce (its own documents'
    # counts only) is far outside the interval
    words, _, prefix = corpus.prefix_arrays()
    mine = shard(prefix, world=2, rank_=0).tokens
    model.n_wk_ = topic_counts(words[mine], model.z_[mine], corpus.n_types, 3)
    model.n_wk_mean_ = None   # score φ of these counts, not the (all-reduced) average
    model.topic_word_ = topic_word(model.n_wk_, model.beta)
    assert abs(model.perplexity(corpus) - mean) > 3 * tol


def test_online_sem_on_two_processes(corpus_dir, torchrun):
    """Online SEM (--online-blocks 3) shares every block between the ranks: the counts equal a
    recount of the gathered z, and the model is within the noise of one-process online runs."""
    corpus = Corpus.open(corpus_dir)
    path = _train(torchrun, corpus_dir, corpus_dir.parent / "online2", "--model", "topic-lla",
                  *TINY_FLAGS, "--iterations", 6, "--online-blocks", 3, "--seed", SEED)
    model = load_model(path)
    assert model.online_blocks == 3 and model.n_iter_done_ == 6 and _recount_ok(model, corpus)
    assert [h["block_documents"] for h in model.history_[1:4]] == [40, 40, 40]
    one = [TopicLLA(3, n_iter=6, online_blocks=3, random_state=s, **TINY).fit(corpus)
           .perplexity(corpus) for s in range(6)]
    mean, tol = _prediction_interval(one)
    assert abs(model.perplexity(corpus) - mean) <= tol, (model.perplexity(corpus), one)


def _arrays(path):
    from safetensors.numpy import load_file
    return load_file(str(Path(path) / "arrays.safetensors"))


def test_same_seed_same_processes_same_model_and_resume_continues_exactly(
        topic_run, corpus_dir, torchrun):
    """A run of 2 iterations resumed (under 2 processes) to 4 is bit for bit the 4-iteration
    run: same seed + same number of processes → same model, and resume loses nothing."""
    base = corpus_dir.parent
    common = ["--model", "topic-lla", *TINY_FLAGS, "--seed", SEED, "--checkpoint-dir",
              base / "ck-resume"]
    _train(torchrun, corpus_dir, base / "half", *common, "--iterations", 2)
    _train(torchrun, corpus_dir, base / "resumed", *common, "--iterations", ITERATIONS,
           "--resume")
    a, b = _arrays(topic_run[0]), _arrays(base / "resumed")
    assert sorted(a) == sorted(b)
    assert all(np.array_equal(a[k], b[k]) for k in a), [k for k in a
                                                         if not np.array_equal(a[k], b[k])]
    assert load_model(base / "resumed").n_iter_done_ == ITERATIONS


def _lda_corpus(seed=0, n_docs=120, K=3, V=60):
    """Documents drawn from LDA itself (θ_d ~ Dir(0.1), sparse φ_k ~ Dir(0.05)), where a
    document's own θ_d matters for document completion."""
    rng = np.random.default_rng(seed)
    phi = rng.dirichlet(np.full(V, 0.05), size=K)
    docs = []
    for _ in range(n_docs):
        z = rng.choice(K, size=int(rng.integers(20, 41)), p=rng.dirichlet(np.full(K, 0.1)))
        docs.append(np.array([rng.choice(V, p=phi[k]) for k in z]))
    return Corpus.from_documents(docs, V)


def test_lda_on_two_processes(corpus_dir, torchrun):
    """AD-LDA across processes (MH sampler: z gathered after every sweep): counts and n_dk are
    those of z; perplexity within noise of one-process LDA (which a model whose other rank's
    θ_d were never gathered is not)."""
    corpus_dir = corpus_dir.parent / "lda-corpus"
    _lda_corpus().save(corpus_dir)
    corpus = Corpus.open(corpus_dir)
    flags = ["--model", "lda", "--topics", "3", "--iterations", "50", "--sampler", "mh",
             "--threads", "1"]
    model = load_model(_train(torchrun, corpus_dir, corpus_dir.parent / "lda2", *flags,
                              "--seed", "1"))
    words, ptr, prefix = corpus.prefix_arrays()
    assert _recount_ok(model, corpus)
    n_dk = np.stack([np.bincount(model.z_[ptr[d]:ptr[d + 1]], minlength=3)
                     for d in range(len(prefix))])
    assert np.array_equal(n_dk, model.n_dk_)
    one = [LDA(3, n_iter=50, sampler="mh", n_threads=1, random_state=s).fit(corpus)
           .perplexity(corpus) for s in range(6)]
    mean, tol = _prediction_interval(one)
    assert abs(model.perplexity(corpus) - mean) <= tol, (model.perplexity(corpus), one)
    other = shard(prefix, world=2, rank_=1).docs
    random_z = np.random.default_rng(0).integers(0, 3, size=len(words))
    for d in range(other.start, other.stop):
        counts = np.bincount(random_z[ptr[d]:ptr[d + 1]], minlength=3)
        model.doc_topic_[d] = (counts + model.alpha_) / (prefix[d] + 3 * model.alpha_)
    assert abs(model.perplexity(corpus) - mean) > tol


def test_evaluate_under_torchrun_scores_exactly_what_one_process_scores(corpus_dir, torchrun):
    corpus = Corpus.open(corpus_dir)
    model = WordLLA(3, n_iter=1, random_state=0, **TINY).fit(corpus)
    path = corpus_dir.parent / "word1"
    model.save(path)
    proc = torchrun(["-m", "lla", "evaluate", path, "--json"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # rank 0 alone prints
    assert result["perplexity"] == pytest.approx(model.perplexity(corpus), rel=1e-9)
    assert result["heldout_tokens"] == corpus.n_suffix_tokens


def test_evaluate_under_torchrun_shares_the_particle_filter(topic_run, corpus_dir, torchrun):
    """Topic-LLA's particle filter on two processes (other streams than one process's): within
    the spread of one-process filters run with different streams."""
    import torch

    from lla.evaluation import perplexity
    from lla.inference.particle_filter import particle_filter_log_prob

    corpus = Corpus.open(corpus_dir)
    model = load_model(topic_run[0])
    proc = torchrun(["-m", "lla", "evaluate", topic_run[0], "--json"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["heldout_tokens"] == corpus.n_suffix_tokens and result["n_particles"] == 16
    one = [perplexity(particle_filter_log_prob(
        model.dynamics_.stepper(), model._log_phi_wk(), np.asarray(corpus.tokens),
        corpus.doc_lengths, corpus.prefix_lengths, n_particles=16,
        generator=torch.Generator().manual_seed(s), n_slots=64)) for s in range(6)]
    mean, tol = _prediction_interval(one)
    assert abs(result["perplexity"] - mean) <= tol, (result["perplexity"], one)


def test_one_process_under_torchrun_is_todays_result(corpus_dir, torchrun):
    base = corpus_dir.parent
    flags = ["--model", "topic-lla", *TINY_FLAGS, "--iterations", "1", "--seed", "3"]
    _train(torchrun, corpus_dir, base / "one-torchrun", *flags, nproc=1)
    assert main(["train", str(corpus_dir), *map(str, flags), "--out",
                 str(base / "one-plain")]) == 0
    a, b = _arrays(base / "one-torchrun"), _arrays(base / "one-plain")
    assert sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


# -- failures -------------------------------------------------------------------------------------
def _children_with_rank(parent_pid, rank):
    """pids of the processes whose parent is ``parent_pid`` and whose environment has RANK."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent_pid and f"RANK={rank}".encode() in env:
            found.append(int(entry.name))
    return found


def _wait_for_checkpoint(path, deadline):
    while time.monotonic() < deadline:
        try:
            if load_model(path).n_iter_done_ >= 1:
                return True
        except lla.LlaError:
            pass
        time.sleep(0.2)
    return False


# word-LLA with validation (sharded exact scoring) that never stops early
LONG_FLAGS = ["--model", "word-lla", *TINY_FLAGS, "--iterations", "500", "--seed", "2",
              "--early-stopping", "--patience", "1000"]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_killing_one_rank_ends_the_job_with_one_line_and_a_loadable_checkpoint(corpus_dir,
                                                                                torchrun):
    base = corpus_dir.parent
    ckpt = base / "ck-killed"
    job = torchrun(["-m", "lla", "train", corpus_dir, *LONG_FLAGS, "--checkpoint-dir", ckpt,
                    "--out", base / "killed"], popen=True)
    try:
        assert _wait_for_checkpoint(ckpt, time.monotonic() + 120), "no checkpoint written"
        victims = _children_with_rank(job.pid, 1)
        assert len(victims) == 1
        os.kill(victims[0], signal.SIGKILL)
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("lla train (rank 0 of 2)")]
    assert len(lines) == 1 and ": error: " in lines[0], err[-3000:]
    model = load_model(ckpt)
    # trained with early stopping: on the first 60 % of every prefix
    assert model.n_iter_done_ >= 1 and _recount_ok(model, Corpus.open(corpus_dir).prefix_corpus())
    assert not (base / "killed").exists()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_without_torchrun_a_dead_or_stuck_rank_ends_the_other(corpus_dir, how):
    """Two ranks started by hand (as on two machines without an agent that stops the job):
    the survivor notices a dead peer at once (gloo) and a stuck one after LLA_DIST_TIMEOUT."""
    import lla as package
    base = corpus_dir.parent
    ckpt = base / f"ck-bare-{how}"
    port = _free_port()
    src = str(Path(package.__file__).resolve().parents[1])
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LLA_DIST_TIMEOUT="5",
                   OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "lla", "train", str(corpus_dir), *map(str, LONG_FLAGS),
             "--checkpoint-dir", str(ckpt), "--out", str(base / f"{how}-out")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        assert _wait_for_checkpoint(ckpt, time.monotonic() + 120), "no checkpoint written"
        os.kill(procs[1].pid, signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        _, err = procs[0].communicate(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert procs[0].returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lla train (rank 0 of 2): error: ")
    if how == "stopped":
        assert "Timed out" in lines[0]
    assert load_model(ckpt).n_iter_done_ >= 1
