"""``lla train CORPUS --model NAME --out DIR``: fit a model on a corpus's training prefixes.

The model options are generated from the models' declared hyper-parameters
(:mod:`lla.cli.model_options`); this module only parses, builds, fits, saves and reports.
"""

import sys
import time
from pathlib import Path

from .._atomic import check_writable

HELP = """\
Fit a model on the training prefixes of a corpus written by `lla prepare` and save it to DIR
(model.json + arrays.safetensors).  Ctrl-C stops training cleanly: the model of the last
finished sweep / SEM iteration is saved.  Model options apply to the models listed in brackets
(with their defaults); an option the chosen model does not have is an error, except --seed,
--threads and --device, which apply where they mean something.  Examples:
  lla train wiki --model lda --topics 100 --iterations 200 --seed 1 --out wiki-lda100
  lla train movielens --model topic-lla --topics 50 --iterations 10 --out ml-lla50
  lla train movielens --model word-lstm --epochs 20 --out ml-lstm
Several processes, one job (lda, topic-lla, independent, word-lla, char-lla; docs/distributed.md):
  torchrun --nproc-per-node 2 -m lla train movielens --model topic-lla --threads 1 --out ml"""


def add_parser(subparsers):
    import argparse

    from ..base import registered_models
    from .model_options import add_options

    p = subparsers.add_parser("train", help="fit a model on a corpus", description=HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS", help="corpus directory (from `lla prepare`)")
    p.add_argument("--model", "-m", choices=sorted(registered_models()), default="lda",
                   help="model to train (default: lda)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="model directory to write")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --checkpoint-dir (LLA variants)")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="always show progress bars (default: only on a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="never show progress bars")
    add_options(p.add_argument_group("model options"), "flag")
    p.set_defaults(run=run)


def run(args):
    from .. import distributed
    from ..base import registered_models
    from ..data import Corpus
    from ..errors import ParameterError, TrainingDiverged
    from .model_options import in_flag_terms, model_arguments

    cls = registered_models()[args.model]
    if distributed.is_distributed() and not getattr(cls, "trains_across_processes", False):
        raise ParameterError(f"--model {args.model} does not train across processes: run it "
                             f"without torchrun")
    kwargs = model_arguments(cls, args, "flag", strict=True)
    if args.progress is not None and "show_progress" in cls._param_names():
        kwargs["show_progress"] = args.progress
    if not distributed.is_writer() and "show_progress" in cls._param_names():
        kwargs["show_progress"] = False  # one progress bar per job, rank 0's
    check_writable(args.out, force=args.force)    # before training, not after it
    corpus = Corpus.open(args.corpus)
    start = time.perf_counter()
    try:
        model = cls(**kwargs)
        model.fit(corpus, resume=bool(args.resume))
    except (ParameterError, TrainingDiverged) as e:
        raise in_flag_terms(e, cls, extra={"resume": "--resume"}) from None
    seconds = time.perf_counter() - start
    with distributed.step("writing the model"):  # rank 0 writes; every rank learns if it failed
        if distributed.is_writer():
            save_or_rescue(model, args.out, force=args.force)
    if not distributed.is_writer():
        return 0
    summary = model.fit_summary()
    print(f"trained {model.model_name} on {corpus.n_prefix_tokens:,} prefix tokens in "
          f"{seconds:.1f} s{'; ' + summary if summary else ''}; saved to {args.out}")
    if model.interruption():
        print(f"lla train: {model.interruption()} (Ctrl-C); the model of the last finished "
              f"step is saved", file=sys.stderr)
        return 130
    return 0


def save_or_rescue(model, out, *, force):
    """Save a trained ``model`` to ``out``; if that fails (the disk filled up, the directory went
    away during training), save it to a new temporary directory instead and say where in the
    error — a finished training is never thrown away."""
    import tempfile

    from ..errors import OutputError
    try:
        model.save(out, force=force)
    except OutputError as e:
        rescue = Path(tempfile.mkdtemp(prefix=f"lla-{model.model_name}-")) / "model"
        try:
            model.save(rescue)
        except OutputError:
            raise e from None
        raise OutputError(f"{e}; the trained model was saved to {rescue} instead") from None
