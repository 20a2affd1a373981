#!/usr/bin/env bash
# RecBole's GRU4Rec and SASRec on an lla corpus prepared with --protocol loo:
#     bash benchmarks/recbole/run.sh CORPUS OUT GRU4Rec=N SASRec=M [train options]
# e.g. bash benchmarks/recbole/run.sh runs/ml-loo runs/recbole-ml GRU4Rec=1 SASRec=1
# Needs benchmarks/recbole/setup.sh once, and lla's environment as `python` (or $LLA_PYTHON).
# Resumable: a model already trained on the same data with the same budget is not retrained.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$1"; out="$2"; shift 2
epochs=(); while [[ $# -gt 0 && "$1" == *=* ]]; do epochs+=("$1"); shift; done
lla_python="${LLA_PYTHON:-python}"
recbole_python="$here/.venv/bin/python"
[[ -x "$recbole_python" ]] || { echo "run benchmarks/recbole/setup.sh first" >&2; exit 2; }
"$lla_python" "$here/peer.py" export "$corpus" --out "$out" ${DATASET_NAME:+--dataset-name "$DATASET_NAME"}
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$recbole_python" "$here/peer.py" train --out "$out" --epochs "${epochs[@]}" "$@"
"$lla_python" "$here/peer.py" collect --out "$out"
