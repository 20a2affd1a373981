"""RecBole's GRU4Rec and SASRec as peers under lla's leave-one-out protocol.

Three steps, each in the environment that has what it needs (``run.sh`` chains them):

``export``   (lla's environment) reads a corpus prepared with ``lla prepare --protocol loo``
             through :class:`lla.Corpus` and writes it as a RecBole atomic file
             ``OUT/data/NAME/NAME.inter`` plus ``OUT/split.npz`` (our split, for the check).
``train``    (``benchmarks/recbole/.venv``, RecBole 1.2.1) trains each model with RecBole's
             published default settings except the epoch budget given on the command line,
             checks that the sequences RecBole built equal ours, evaluates the best-validation
             checkpoint on the test targets and writes ``OUT/models/MODEL.json`` (RecBole's
             own metrics, and the rank of every target).  A model whose JSON exists for the
             same data and budget is not retrained.
``collect``  (lla's environment) computes HR@10, NDCG@10 and MRR@10 from those ranks with
             :mod:`lla.evaluation.ranking` and writes ``OUT/results.json``.

Pitfalls of RecBole 1.2.1 and how they are handled here:

* numpy < 2 and pandas < 3 (it uses ``np.float_``): its own virtual environment
  (``benchmarks/recbole/setup.sh``), never lla's.
* ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, and RecBole's checkpoint
  holds its Config object: the best checkpoint (written by this very process) is loaded here with
  ``weights_only=False``, inside the isolated environment only; RecBole's own reload
  (``evaluate(load_best_model=True)``) is never called.
* For a dataset named ``ml-100k`` RecBole ignores ``data_path`` and reads its bundled copy:
  ``data_path`` is set again after the Config is built, and the dataset's path is asserted.
* Timestamps are normalised and stored as float32, which merges distinct Unix times: the
  timestamp written is each event's position in its user's sequence (0, 1, 2, ...; distinct
  within a user and exact in float32), the file is sorted by (user, position), and the
  sequences RecBole builds are compared with ours sample by sample.
* Its ``Pop`` model masks history items at test time while its sequential models do not: the
  metrics here are full-sort and unmasked, like RecBole's GRU4Rec/SASRec.
* The ranks computed here count ties against the target (lla's rule); RecBole's own numbers
  (rounded to 4 decimals, ties broken by ``torch.topk``) are kept beside them as a check.
"""

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path

MODELS = ("GRU4Rec", "SASRec")
HERE = Path(__file__).resolve().parent


def _write_json(path, obj):
    """Atomic JSON write (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- export (lla's environment) ----------------------------------------------------------------
def export(args):
    import numpy as np

    from lla import Corpus, InputError

    corpus = Corpus.open(args.corpus)
    if corpus.protocol != "loo":
        raise InputError(f"protocol is {corpus.protocol!r}; prepare the corpus with "
                         "--protocol loo", args.corpus)
    name = args.dataset_name or Path(args.corpus).resolve().name
    out = Path(args.out)
    inter = out / "data" / name / f"{name}.inter"
    inter.parent.mkdir(parents=True, exist_ok=True)
    types = corpus.vocab.types
    tmp = inter.with_name(inter.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for d in range(len(corpus)):
            f.write("".join(f"{d}\t{types[t]}\t{p}\n" for p, t in enumerate(corpus[d])))
    os.replace(tmp, inter)
    test, val = corpus.targets("test"), corpus.targets("validation")
    np.savez(out / "split.npz", tokens=np.asarray(corpus.tokens),
             offsets=np.asarray(corpus.offsets), prefix_lengths=corpus.prefix_lengths,
             test_docs=test.docs, test_positions=test.positions, validation_docs=val.docs,
             validation_positions=val.positions)
    _write_json(out / "types.json", types)
    info = {"corpus": str(args.corpus), "dataset": name, "protocol": corpus.protocol,
            "inter_file": str(inter.relative_to(out)), "inter_sha256": _sha256(inter),
            "n_users": len(corpus), "n_events": corpus.n_tokens, "vocab_size": len(types),
            "n_test_targets": int(len(test.docs)), "n_validation_targets": int(len(val.docs)),
            "statistics": corpus.meta.get("statistics", {})}
    _write_json(out / "export.json", info)
    print(f"wrote {inter} ({corpus.n_tokens:,} events of {len(corpus):,} users; "
          f"{len(test.docs):,} test / {len(val.docs):,} validation targets)")
    return 0


# -- train (RecBole's environment) -------------------------------------------------------------
def _expected_samples(split, types, max_len):
    """Our split as RecBole's sequential samples: every event after the first of a user's
    training prefix is a training target, and the validation / test targets; each with the
    last ``max_len`` events before it.  Returns {part: (users, targets, histories)} with
    token strings, users and samples in user order, then position order."""
    tokens, offsets = split["tokens"], split["offsets"]
    out = {"train": ([], [], [])}
    for d, n_prefix in enumerate(split["prefix_lengths"]):
        for p in range(1, int(n_prefix)):
            _add_sample(out["train"], d, tokens[offsets[d]:offsets[d] + p + 1], types, max_len)
    for part in ("validation", "test"):
        out[part] = ([], [], [])
        for d, p in zip(split[f"{part}_docs"], split[f"{part}_positions"]):
            _add_sample(out[part], d, tokens[offsets[d]:offsets[d] + p + 1], types, max_len)
    return out


def _add_sample(lists, d, events, types, max_len):
    users, targets, histories = lists
    users.append(str(d))
    targets.append(types[events[-1]])
    histories.append(tuple(types[t] for t in events[:-1][-max_len:]))


def _recbole_samples(data, dataset):
    """The (user, target, history) samples RecBole built, as token strings, grouped by user
    (stable, so each user's samples keep RecBole's order)."""
    import numpy as np
    feat = data._dataset.inter_feat
    uid, iid = dataset.uid_field, dataset.iid_field
    users = dataset.id2token(uid, feat[uid].numpy())
    targets = dataset.id2token(iid, feat[iid].numpy())
    lists = feat[iid + dataset.config["LIST_SUFFIX"]].numpy()
    lengths = feat[dataset.config["ITEM_LIST_LENGTH_FIELD"]].numpy()
    order = np.argsort(users.astype(np.int64), kind="stable")
    histories = [tuple(dataset.id2token(iid, lists[i, :lengths[i]])) for i in order]
    return [str(u) for u in users[order]], [str(t) for t in targets[order]], histories


def check_sequences(split, types, dataset, parts, max_len):
    """Compare RecBole's train / validation / test samples with ours; a list of problems."""
    expected = _expected_samples(split, types, max_len)
    problems = []
    for part, data in parts.items():
        want = expected[part]
        got = _recbole_samples(data, dataset)
        if len(got[0]) != len(want[0]):
            problems.append(f"{part}: RecBole has {len(got[0]):,} samples, ours {len(want[0]):,}")
            continue
        for what, g, w in zip(("users", "targets", "histories"), got, want):
            bad = sum(a != b for a, b in zip(g, w))
            if bad:
                problems.append(f"{part}: {bad:,} samples differ in their {what}")
    return problems, {part: len(expected[part][0]) for part in expected}


def _timed(fn, times):
    def wrapper(*a, **k):
        start = time.perf_counter()
        result = fn(*a, **k)
        times.append(round(time.perf_counter() - start, 3))
        return result
    return wrapper


def _ranks(trainer, data, dataset):
    """Rank of every target (1 + items scored strictly higher; RecBole's padding item 0 is
    excluded as RecBole does), keyed by our document index."""
    import torch
    users, ranks = [], []
    with torch.no_grad():
        for batch in data:
            interaction, scores, positive_u, positive_i = trainer._full_sort_batch_eval(batch)
            target = scores[positive_u, positive_i]
            rank = 1 + (scores[positive_u] > target[:, None]).sum(dim=1)
            uid = interaction[dataset.uid_field][positive_u].cpu().numpy()
            users += [int(u) for u in dataset.id2token(dataset.uid_field, uid)]
            ranks += rank.cpu().tolist()
    return [[u, r] for u, r in sorted(zip(users, ranks))]


def train(args):
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch
    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.transform import construct_transform
    from recbole.utils import get_flops, get_model, get_trainer, init_logger, init_seed

    torch.set_num_threads(args.threads)
    import warnings  # RecBole 1.2.1's pandas calls warn about pandas 3 on every dataset load
    warnings.filterwarnings("ignore", category=FutureWarning, module="recbole")
    out = Path(args.out).resolve()
    info = json.loads((out / "export.json").read_text())
    types = json.loads((out / "types.json").read_text())
    split = dict(np.load(out / "split.npz"))
    budgets = dict(_parse_budget(b) for b in args.epochs)
    name = info["dataset"]
    work = out / "recbole"
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # RecBole writes log/ and log_tensorboard/ into the working directory
    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value settings from the command line
    status = 0
    for model_name, epochs in budgets.items():
        result_path = out / "models" / f"{model_name}.json"
        if result_path.exists() and not args.check_only:
            done = json.loads(result_path.read_text())
            if done.get("epoch_budget") == epochs and \
                    done.get("inter_sha256") == info["inter_sha256"]:
                print(f"{model_name}: done already ({result_path}), not retrained")
                continue
        config = Config(model=model_name, dataset=name, config_dict={
            "data_path": str(out / "data"), "checkpoint_dir": str(work / "saved" / model_name),
            "epochs": epochs, "use_gpu": args.device == "cuda", "show_progress": False,
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            # RecBole 1.2.1 refuses its own default negative sampling with the CE loss that
            # both models use by default; its documentation sets it to None for them
            "train_neg_sample_args": None,
            "save_dataset": False, "save_dataloaders": False, "log_wandb": False})
        config["data_path"] = str(out / "data" / name)  # RecBole swaps in its bundled ml-100k
        init_seed(config["seed"], config["reproducibility"])
        init_logger(config)
        dataset = create_dataset(config)
        if Path(dataset.dataset_path).resolve() != (out / "data" / name):
            raise SystemExit(f"RecBole reads {dataset.dataset_path}, not our files")
        train_data, valid_data, test_data = data_preparation(config, dataset)
        problems, n_samples = check_sequences(
            split, types, dataset, {"train": train_data, "validation": valid_data,
                                    "test": test_data}, config["MAX_ITEM_LIST_LENGTH"])
        if problems:
            print(f"{model_name}: RecBole's sequences differ from ours: " + "; ".join(problems))
            status = 1
            continue
        print(f"{model_name}: RecBole's sequences equal ours ({n_samples['train']:,} training, "
              f"{n_samples['validation']:,} validation, {n_samples['test']:,} test samples)")
        if args.check_only:
            continue
        init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
        model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
        # as run_recbole does (it also draws from the RNG before training)
        flops = get_flops(model, dataset, config["device"], logging.getLogger(),
                          construct_transform(config))
        trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
        train_seconds, valid_seconds = [], []
        trainer._train_epoch = _timed(trainer._train_epoch, train_seconds)
        trainer._valid_epoch = _timed(trainer._valid_epoch, valid_seconds)
        start = time.perf_counter()
        best_valid_score, _ = trainer.fit(train_data, valid_data, saved=True,
                                          show_progress=False)
        fit_seconds = time.perf_counter() - start
        # RecBole's own checkpoint, written above by this process: it pickles its Config, so
        # torch >= 2.6 needs weights_only=False (only here, in this isolated environment)
        checkpoint = torch.load(trainer.saved_model_file, map_location=config["device"],
                                weights_only=False)
        model.load_state_dict(checkpoint["state_dict"])
        model.load_other_parameter(checkpoint.get("other_parameter"))
        result = {
            "model": model_name, "dataset": name, "corpus": info["corpus"],
            "inter_sha256": info["inter_sha256"], "protocol": "loo", "ranking": "full, unmasked",
            "epoch_budget": epochs, "epochs_run": len(train_seconds),
            "best_epoch": int(checkpoint["epoch"]) + 1, "best_valid_score": best_valid_score,
            "valid_metric": config["valid_metric"],
            "train_epoch_seconds": train_seconds, "valid_epoch_seconds": valid_seconds,
            "fit_seconds": round(fit_seconds, 3), "threads": args.threads,
            "device": str(config["device"]), "parameters": sum(p.numel() for p in
                                                                model.parameters()),
            "n_items_ranked": int(dataset.item_num - 1), "flops": float(flops),
            "recbole_test": {k: float(v) for k, v in
                             trainer.evaluate(test_data, load_best_model=False).items()},
            "recbole_valid": {k: float(v) for k, v in
                              trainer.evaluate(valid_data, load_best_model=False).items()},
            "test_ranks": _ranks(trainer, test_data, dataset),
            "valid_ranks": _ranks(trainer, valid_data, dataset),
            "samples": n_samples,
            "settings": {k: config[k] for k in _SETTINGS if k in config},
            "versions": {"recbole": recbole.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "python": sys.version.split()[0]},
        }
        result["settings"]["eval_args"] = dict(config["eval_args"])
        _write_json(result_path, result)
        print(f"{model_name}: {result['epochs_run']} epochs "
              f"(train {sum(train_seconds):.0f} s, validation {sum(valid_seconds):.0f} s), "
              f"best epoch {result['best_epoch']}, RecBole test {result['recbole_test']}")
    return status


_SETTINGS = ("embedding_size", "hidden_size", "num_layers", "dropout_prob", "loss_type",
             "n_layers", "n_heads", "inner_size", "hidden_dropout_prob", "attn_dropout_prob",
             "hidden_act", "layer_norm_eps", "initializer_range", "learning_rate",
             "train_batch_size", "eval_batch_size", "learner", "weight_decay", "stopping_step",
             "eval_step", "valid_metric", "topk", "MAX_ITEM_LIST_LENGTH", "seed",
             "train_neg_sample_args", "epochs")


def _parse_budget(text):
    model, sep, epochs = text.partition("=")
    if not sep or model not in MODELS or not epochs.isdigit() or int(epochs) < 1:
        raise SystemExit(f"--epochs: expected MODEL=N with MODEL in {', '.join(MODELS)} and "
                         f"N >= 1, got {text!r}")
    return model, int(epochs)


# -- collect (lla's environment) ---------------------------------------------------------------
def collect(args):
    from lla.evaluation.ranking import ranking_metrics

    out = Path(args.out)
    info = json.loads((out / "export.json").read_text())
    models = {}
    for path in sorted((out / "models").glob("*.json")):
        r = json.loads(path.read_text())
        if r["inter_sha256"] != info["inter_sha256"]:
            print(f"skipping {path}: trained on other data")
            continue
        test = ranking_metrics([rank for _, rank in r["test_ranks"]], 10)
        valid = ranking_metrics([rank for _, rank in r["valid_ranks"]], 10)
        models[r["model"]] = {
            "test": test, "validation": valid, "parameters": r["parameters"],
            "recbole_test": r["recbole_test"], "recbole_valid": r["recbole_valid"],
            "epoch_budget": r["epoch_budget"], "epochs_run": r["epochs_run"],
            "best_epoch": r["best_epoch"], "train_epoch_seconds": r["train_epoch_seconds"],
            "valid_epoch_seconds": r["valid_epoch_seconds"], "threads": r["threads"],
            "device": r["device"], "settings": r["settings"], "versions": r["versions"],
        }
        # RecBole rounds to 4 decimals and breaks exact ties by torch.topk's order
        models[r["model"]]["recbole_minus_ours"] = {
            m: round(r["recbole_test"][f"{key}@10"] - test[f"{m}@10"], 6)
            for m, key in (("hr", "hit"), ("ndcg", "ndcg"), ("mrr", "mrr"))}
    result = {"corpus": info["corpus"], "dataset": info["dataset"], "protocol": "loo",
              "ranking": "full sort over all items, history not masked",
              "n_test_targets": info["n_test_targets"],
              "n_validation_targets": info["n_validation_targets"], "models": models}
    _write_json(out / "results.json", result)
    for m, r in models.items():
        t = r["test"]
        print(f"{m:8s} HR@10 {t['hr@10']:.4f}  NDCG@10 {t['ndcg@10']:.4f}  "
              f"MRR@10 {t['mrr@10']:.4f}  ({r['epochs_run']} of {r['epoch_budget']} epochs, "
              f"best {r['best_epoch']}; {r['parameters']:,} parameters; RecBole's own: "
              f"{r['recbole_test']})")
    print(f"wrote {out / 'results.json'}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    e = sub.add_parser("export", help="corpus -> RecBole atomic files (lla's environment)")
    e.add_argument("corpus", help="corpus directory prepared with --protocol loo")
    e.add_argument("--out", required=True, help="run directory")
    e.add_argument("--dataset-name", help="RecBole dataset name (default: the corpus folder's)")
    t = sub.add_parser("train", help="train and evaluate the peers (RecBole's environment)")
    t.add_argument("--out", required=True, help="run directory written by export")
    t.add_argument("--epochs", nargs="+", required=True, metavar="MODEL=N",
                   help=f"epoch budget per model ({', '.join(MODELS)})")
    t.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    t.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    t.add_argument("--check-only", action="store_true",
                   help="only check that RecBole's sequences equal ours; train nothing")
    c = sub.add_parser("collect", help="metrics with lla's functions -> results.json")
    c.add_argument("--out", required=True, help="run directory")
    args = p.parse_args(argv)
    return {"export": export, "train": train, "collect": collect}[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
