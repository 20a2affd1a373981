#!/usr/bin/env bash
# One command per event corpus (issue 15, docs/user_modelling.md): lla's models and RecBole's
# GRU4Rec and SASRec under the leave-one-out protocol, and the table of both.
#     bash benchmarks/user_modelling.sh CORPUS OUT GRU4Rec=N SASRec=M [lla compare options]
# e.g. bash benchmarks/user_modelling.sh runs/ml-loo runs/um-ml GRU4Rec=10 SASRec=3
# CORPUS must be prepared with `lla prepare --protocol loo`; RecBole's environment must exist
# (bash benchmarks/recbole/setup.sh).  Every step resumes: trained runs are not trained again.
# Set DATASET_NAME=ml-100k for MovieLens (see benchmarks/recbole/README.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$1"; out="$2"; shift 2
budgets=(); while [[ $# -gt 0 && "$1" == *=* ]]; do budgets+=("$1"); shift; done
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
lla compare "$corpus" --models unigram,lda,ddlda,topic-lla,word-lla,independent,word-lstm \
    --topics 50 --masked --out "$out/lla" --no-progress "$@"
bash "$here/recbole/run.sh" "$corpus" "$out/recbole" "${budgets[@]}"
python "$here/user_modelling_table.py" --compare "$out/lla" --recbole "$out/recbole" | tee "$out/table.md"
python "$here/loo_target_kinds.py" "$corpus" "$out/lla" "$out/recbole" | tee -a "$out/table.md"
