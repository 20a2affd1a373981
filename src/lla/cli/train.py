"""``lla train CORPUS --model NAME --out DIR``: fit a model on a corpus's training prefixes."""

import time

HELP = """\
Fit a model on the training prefixes of a corpus written by `lla prepare` and save it to DIR
(model.json + arrays.safetensors).  Ctrl-C stops training cleanly: the model of the last
finished sweep is saved.  Example:
  lla train wiki --model lda --topics 100 --iterations 200 --seed 1 --out wiki-lda100"""


def _build_lda(args):
    from ..models import LDA
    return LDA(args.topics, alpha=args.alpha, beta=0.01 if args.beta is None else args.beta,
               n_iter=args.iterations, n_threads=args.threads, random_state=args.seed)


#: --model name -> constructor from the parsed arguments; later models add entries here
def _build_topic_lla(args):
    from ..errors import ParameterError
    from ..models import TopicLLA
    if args.resume and not args.checkpoint_dir:
        raise ParameterError("--resume needs --checkpoint-dir (the checkpoint to continue from)")
    return TopicLLA(args.topics, embedding_size=args.embedding, hidden_size=args.hidden,
                    alpha=args.alpha, beta=0.01 if args.beta is None else args.beta,
                    n_iter=args.iterations, init_lda_iter=args.init_lda_iterations,
                    init_lstm_epochs=args.init_lstm_epochs,
                    lstm_epochs_per_iter=args.lstm_epochs, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, dropout=args.dropout,
                    weight_decay=args.weight_decay, early_stopping=args.early_stopping,
                    n_threads=args.threads, device=args.device,
                    checkpoint_dir=args.checkpoint_dir, random_state=args.seed)


def _build_word_lla(name):
    """word-lla / char-lla: topic-lla's flags (no particles: their scoring is exact)."""
    def build(args):
        from ..errors import ParameterError
        from ..models import CharLLA, WordLLA
        if args.resume and not args.checkpoint_dir:
            raise ParameterError("--resume needs --checkpoint-dir (the checkpoint to continue "
                                 "from)")
        return {"word-lla": WordLLA, "char-lla": CharLLA}[name](
            args.topics, embedding_size=args.embedding, hidden_size=args.hidden,
            alpha=args.alpha, beta=0.01 if args.beta is None else args.beta,
            n_iter=args.iterations, init_lda_iter=args.init_lda_iterations,
            init_lstm_epochs=args.init_lstm_epochs, lstm_epochs_per_iter=args.lstm_epochs,
            batch_size=args.batch_size, learning_rate=args.learning_rate, dropout=args.dropout,
            weight_decay=args.weight_decay, early_stopping=args.early_stopping,
            n_threads=args.threads, device=args.device, checkpoint_dir=args.checkpoint_dir,
            random_state=args.seed)
    return build


MODELS = {
    "lda": _build_lda,
    "topic-lla": _build_topic_lla,
    "word-lla": _build_word_lla("word-lla"),
    "char-lla": _build_word_lla("char-lla"),
}

#: --model name -> extra keyword arguments of fit() from the parsed arguments
FIT_OPTIONS = {
    "topic-lla": lambda args: {"resume": bool(args.resume)},
    "word-lla": lambda args: {"resume": bool(args.resume)},
    "char-lla": lambda args: {"resume": bool(args.resume)},
}


def add_parser(subparsers):
    import argparse
    p = subparsers.add_parser("train", help="fit a model on a corpus", description=HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS", help="corpus directory (from `lla prepare`)")
    p.add_argument("--model", "-m", choices=sorted(MODELS), default="lda",
                   help="model to train (default: lda)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="model directory to write")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--topics", "-k", type=int, default=100, metavar="K",
                   help="number of topics (default 100)")
    p.add_argument("--iterations", "-n", type=int, default=200, metavar="N",
                   help="training sweeps / iterations (default 200)")
    p.add_argument("--alpha", type=float, metavar="A",
                   help="document-topic prior (LDA default 0.1)")
    p.add_argument("--beta", type=float, metavar="B", help="topic-word prior (default 0.01)")
    p.add_argument("--threads", type=int, metavar="T",
                   help="worker threads / document shards (default: all cores)")
    p.add_argument("--seed", type=int, metavar="S", help="random seed (default: fresh entropy)")
    g = p.add_argument_group("topic-lla, word-lla, char-lla (--iterations = SEM iterations)")
    g.add_argument("--hidden", type=int, default=128, metavar="H", help="LSTM state size")
    g.add_argument("--embedding", type=int, default=128, metavar="E", help="topic embedding size")
    g.add_argument("--init-lda-iterations", type=int, default=200, metavar="N",
                   help="LDA sweeps of the initialisation (default 200)")
    g.add_argument("--init-lstm-epochs", type=int, default=10, metavar="N",
                   help="LSTM epochs on LDA's assignments (default 10)")
    g.add_argument("--lstm-epochs", type=int, default=2, metavar="N",
                   help="LSTM epochs per SEM iteration (default 2)")
    g.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="documents per LSTM minibatch (default 32)")
    g.add_argument("--learning-rate", type=float, default=1e-3, metavar="LR", help="AdamW")
    g.add_argument("--dropout", type=float, default=0.2, metavar="P")
    g.add_argument("--weight-decay", type=float, default=1e-4, metavar="WD")
    g.add_argument("--early-stopping", action="store_true",
                   help="train on 60%% of every prefix, stop on the particle-filter perplexity "
                        "of the rest")
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ...")
    g.add_argument("--checkpoint-dir", metavar="DIR",
                   help="save the model there after every SEM iteration")
    g.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --checkpoint-dir")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="always show the progress bar (default: only on a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="never show the progress bar")
    p.set_defaults(run=run)


def run(args):
    from pathlib import Path

    from ..data import Corpus
    from ..errors import InputError

    if Path(args.out).exists() and not args.force:
        raise InputError("already exists (use --force to replace it)", args.out)
    corpus = Corpus.open(args.corpus)
    model = MODELS[args.model](args)
    if hasattr(model, "show_progress"):
        model.show_progress = args.progress
    start = time.perf_counter()
    model.fit(corpus, **FIT_OPTIONS.get(args.model, lambda a: {})(args))
    seconds = time.perf_counter() - start
    model.save(args.out, force=args.force)
    done = getattr(model, "n_iter_done_", None)
    wanted = getattr(model, "n_iter", None)
    extra = ""
    if done is not None:
        extra = f", {done} sweeps"
        if wanted is not None and done < wanted:
            extra += f" (stopped early, of {wanted})"
        extra += f", {done * corpus.n_prefix_tokens / max(seconds, 1e-9):,.0f} tokens/s"
    print(f"trained {model.model_name} on {corpus.n_prefix_tokens:,} prefix tokens in "
          f"{seconds:.1f} s{extra}; saved to {args.out}")
    return 0
