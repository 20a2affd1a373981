"""``lla train CORPUS --model NAME --out DIR``: fit a model on a corpus's training prefixes."""

import time

HELP = """\
Fit a model on the training prefixes of a corpus written by `lla prepare` and save it to DIR
(model.json + arrays.safetensors).  Ctrl-C stops training cleanly: the model of the last
finished sweep / SEM iteration is saved.  Examples:
  lla train wiki --model lda --topics 100 --iterations 200 --seed 1 --out wiki-lda100
  lla train movielens --model topic-lla --topics 50 --iterations 10 --out ml-lla50
  lla train movielens --model word-lstm --epochs 20 --out ml-lstm"""


def _beta(args):
    return 0.01 if args.beta is None else args.beta


def _iterations(args, default):
    return default if args.iterations is None else args.iterations


def _build_unigram(args):
    from ..models import Unigram
    return Unigram()


def _build_lda(args):
    from ..models import LDA
    return LDA(args.topics, alpha=args.alpha, beta=_beta(args),
               n_iter=_iterations(args, 200), n_threads=args.threads, random_state=args.seed)


def _build_ddlda(args):
    from ..models import DDLDA
    return DDLDA(args.topics, alpha=0.1 if args.alpha is None else args.alpha, beta=_beta(args),
                 kernel=args.kernel, width=args.width, decay=args.decay,
                 n_iter=_iterations(args, 100), n_particles=args.particles,
                 random_state=args.seed)


def _lla_options(args):
    """Constructor arguments shared by topic-, word- and char-LLA and the independent learner."""
    from ..errors import ParameterError
    if args.resume and not args.checkpoint_dir:
        raise ParameterError("--resume needs --checkpoint-dir (the checkpoint to continue from)")
    return dict(embedding_size=args.embedding, hidden_size=args.hidden, alpha=args.alpha,
                beta=_beta(args), init_lda_iter=args.init_lda_iterations,
                init_lstm_epochs=args.init_lstm_epochs, lstm_epochs_per_iter=args.lstm_epochs,
                batch_size=args.batch_size, learning_rate=args.learning_rate,
                dropout=args.dropout, weight_decay=args.weight_decay,
                early_stopping=args.early_stopping, n_threads=args.threads, device=args.device,
                checkpoint_dir=args.checkpoint_dir, random_state=args.seed)


def _build_lla(class_name):
    def build(args):
        import lla
        extra = {}
        if args.item_names is not None:
            if class_name != "CharLLA":
                from ..errors import ParameterError
                raise ParameterError("--item-names only applies to --model char-lla")
            extra["type_names"] = args.item_names
        return getattr(lla, class_name)(args.topics, n_iter=_iterations(args, 10),
                                        **_lla_options(args), **extra)
    return build


def _build_independent(args):
    from ..errors import ParameterError
    from ..models import IndependentLLA
    if args.iterations not in (None, 0):
        raise ParameterError("--iterations: the independent learner runs no SEM iterations "
                             "(use --model topic-lla for joint training)")
    return IndependentLLA(args.topics, **_lla_options(args))


def _build_lm(class_name):
    def build(args):
        import lla
        cls = getattr(lla, class_name)
        kwargs = dict(embedding_size=args.embedding, hidden_size=args.hidden,
                      device=args.device, random_state=args.seed)
        if args.epochs is not None:
            kwargs["n_epochs"] = args.epochs
        return cls(**kwargs)
    return build


def _build_autoencoder(args):
    from ..models import Autoencoder
    kwargs = dict(code_size=args.code_size, device=args.device, random_state=args.seed)
    if args.epochs is not None:
        kwargs["n_epochs"] = args.epochs
    return Autoencoder(**kwargs)


#: --model name -> constructor from the parsed arguments
MODELS = {
    "unigram": _build_unigram,
    "lda": _build_lda,
    "ddlda": _build_ddlda,
    "topic-lla": _build_lla("TopicLLA"),
    "word-lla": _build_lla("WordLLA"),
    "char-lla": _build_lla("CharLLA"),
    "independent": _build_independent,
    "word-lstm": _build_lm("WordLSTM"),
    "char-lstm": _build_lm("CharLSTM"),
    "autoencoder": _build_autoencoder,
}

_LLA = ("topic-lla", "word-lla", "char-lla", "independent")

#: --model name -> extra keyword arguments of fit() from the parsed arguments
FIT_OPTIONS = {name: (lambda args: {"resume": bool(args.resume)}) for name in _LLA}

#: what one unit of ``n_iter_done_`` is called in the summary line
_UNIT = {"lda": "sweeps", "ddlda": "sweeps", "topic-lla": "SEM iterations",
         "word-lla": "SEM iterations", "char-lla": "SEM iterations"}


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
    p.add_argument("--iterations", "-n", type=int, metavar="N",
                   help="Gibbs sweeps (lda: default 200, ddlda: 100) or SEM iterations "
                        "(topic-, word-, char-lla: default 10)")
    p.add_argument("--alpha", type=float, metavar="A",
                   help="document-topic prior (LDA default 0.1)")
    p.add_argument("--beta", type=float, metavar="B", help="topic-word prior (default 0.01)")
    p.add_argument("--threads", type=int, metavar="T",
                   help="worker threads / document shards (default: all cores)")
    p.add_argument("--seed", type=int, metavar="S", help="random seed (default: fresh entropy)")
    g = p.add_argument_group("topic-lla, word-lla, char-lla, independent")
    g.add_argument("--hidden", type=int, default=128, metavar="H",
                   help="LSTM state size (also word-lstm, char-lstm; default 128)")
    g.add_argument("--embedding", type=int, default=128, metavar="E",
                   help="input embedding size (also word-lstm, char-lstm; default 128)")
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
    g.add_argument("--item-names", metavar="FILE",
                   help="char-lla: spell each type by its name from FILE (type<TAB>name lines, "
                        "or MovieLens u.item for film titles) instead of its identifier")
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ...")
    g.add_argument("--checkpoint-dir", metavar="DIR",
                   help="save the model there after every SEM iteration")
    g.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --checkpoint-dir")
    g = p.add_argument_group("ddlda")
    g.add_argument("--kernel", choices=("exponential", "window"), default="exponential",
                   help="decay kernel over the previous --width tokens (default exponential)")
    g.add_argument("--width", type=int, default=10, metavar="W", help="window (default 10)")
    g.add_argument("--decay", type=float, default=3.0, metavar="D",
                   help="decay length of the exponential kernel (default 3)")
    g.add_argument("--particles", type=int, default=16, metavar="S",
                   help="particles for held-out scoring (default 16)")
    g = p.add_argument_group("word-lstm, char-lstm, autoencoder")
    g.add_argument("--epochs", type=int, metavar="N",
                   help="maximum epochs (default: LSTMs 20, autoencoder 200; early stopping on "
                        "a validation split of the prefixes)")
    g.add_argument("--code-size", type=int, default=50, metavar="C",
                   help="autoencoder code size (default 50)")
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
    extra = ""
    done = getattr(model, "n_iter_done_", None)
    wanted = getattr(model, "n_iter", None)
    if args.model in _UNIT and done is not None:
        extra = f", {done} {_UNIT[args.model]}"
        if wanted is not None and done < wanted:
            extra += f" (stopped early, of {wanted})"
        if args.model in ("lda", "ddlda"):
            extra += f", {done * corpus.n_prefix_tokens / max(seconds, 1e-9):,.0f} tokens/s"
    elif getattr(model, "n_epochs_trained_", None) is not None:
        extra = f", best epoch {model.n_epochs_trained_}"
    print(f"trained {model.model_name} on {corpus.n_prefix_tokens:,} prefix tokens in "
          f"{seconds:.1f} s{extra}; saved to {args.out}")
    return 0
