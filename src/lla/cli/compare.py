"""``lla compare CORPUS --models ... --topics ... --out DIR``: the paper's comparison."""

import argparse
import shlex

HELP = """\
Train every listed model on the training prefixes of CORPUS, score each with the held-out
protocol (perplexity; HR@10 and MRR for event data), and write DIR/results.json,
DIR/results.md and the plots: perplexity against model size (the paper's Fig. 4), perplexity
against K (Fig. 5) and joint against independent training (Table 4).  Models already trained in
DIR are not trained again, so an interrupted comparison resumes.  Example:
  lla compare movielens --models lda,topic-lla,independent,word-lstm --topics 20,50 --out cmp"""


def add_parser(subparsers):
    from ..compare import DEFAULT_MODELS, MODELS
    p = subparsers.add_parser("compare", help="train and score several models side by side",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS", help="corpus directory (from `lla prepare`)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output directory")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="LIST",
                   help=f"comma-separated, from: {', '.join(MODELS)} (default: all)")
    p.add_argument("--topics", "-k", default="50", metavar="K[,K...]",
                   help="numbers of topics for the topic models (default 50)")
    p.add_argument("--embedding", type=int, default=128, metavar="E", help="default 128")
    p.add_argument("--hidden", type=int, default=128, metavar="H", help="default 128")
    p.add_argument("--lda-iterations", type=int, default=200, metavar="N",
                   help="LDA / ddLDA sweeps and LLA's LDA initialisation (default 200)")
    p.add_argument("--sem-iterations", type=int, default=10, metavar="N",
                   help="SEM iterations of the LLA variants (default 10)")
    p.add_argument("--init-lstm-epochs", type=int, default=10, metavar="N",
                   help="LLA: LSTM epochs on LDA's assignments before SEM (default 10)")
    p.add_argument("--lstm-epochs", type=int, default=2, metavar="N",
                   help="LLA: LSTM epochs per SEM iteration (default 2)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="LLA: documents per LSTM minibatch (default 32; larger is faster on "
                        "long documents)")
    p.add_argument("--epochs", type=int, default=5, metavar="N",
                   help="maximum epochs of the LSTM language models and the autoencoder "
                        "(default 5)")
    p.add_argument("--no-lm-validation", dest="lm_validation", action="store_false",
                   help="LSTM LMs and autoencoder: train exactly --epochs epochs on the whole "
                        "prefixes instead of early stopping on a validation split of them")
    p.add_argument("--particles", type=int, default=16, metavar="S",
                   help="particles for particle-filter scoring (default 16)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="never show progress bars")
    p.set_defaults(run=run)


def _int_list(text, flag):
    from ..errors import ParameterError
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"{flag}: expected comma-separated integers, got {text!r}") from None


def run(args):
    from ..compare import CompareSettings, compare, results_table, is_event_corpus
    from ..data import Corpus

    corpus = Corpus.open(args.corpus)
    settings = CompareSettings(topics=_int_list(args.topics, "--topics"),
                               embedding_size=args.embedding, hidden_size=args.hidden,
                               lda_iter=args.lda_iterations, sem_iter=args.sem_iterations,
                               init_lstm_epochs=args.init_lstm_epochs,
                               lstm_epochs_per_iter=args.lstm_epochs,
                               batch_size=args.batch_size, lstm_epochs=args.epochs,
                               lm_validation=args.lm_validation, n_particles=args.particles,
                               seed=args.seed, device=args.device, show_progress=args.progress)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    command = "lla " + " ".join(shlex.quote(a) for a in args.argv)
    results = compare(corpus, args.out, models, settings, command=command)
    print(results_table(results, is_event_corpus(corpus)))
    print(f"\nwrote {args.out}/results.json, results.md and plots")
    return 0
