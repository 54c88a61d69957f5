#!/bin/sh
# train.sh: trains the bots example's model and regenerates its expected outputs (fixed seeds, pinned time).
# Usage: examples/bots/train.sh [ETHO]      (default ETHO: build/bin/etho from the repository root)
# tests/models_tools checks that the committed model, card and outputs are exactly what this produces.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
etho=${1:-$here/../../build/bin/etho}
case $etho in /*) ;; *) etho=$(pwd)/$etho ;; esac
cd "$here"
# The model file and card record their creation time: pin it so that a rebuild is byte-identical.
export SOURCE_DATE_EPOCH=1772438400

"$etho" train --spec spec.yaml --events events.jsonl --labels labels.csv --out model.etm \
    --dead-letter expected/train.dead.jsonl >expected/train.txt
"$etho" eval --model model.etm --events test_events.jsonl --labels test_labels.jsonl >expected/eval.txt
"$etho" eval --model model.etm --events events.jsonl --labels labels.csv --folds 5 >expected/eval_cv.txt \
    2>/dev/null
"$etho" drift --model model.etm --events test_events.jsonl >expected/drift_test.txt
# A window with more bots and a new page drifts: etho drift exits 3, which is the point here.
status=0
"$etho" drift --model model.etm --events drift_events.jsonl >expected/drift_shifted.txt || status=$?
[ "$status" -eq 3 ] || { echo "train.sh: expected drift (exit 3) on drift_events.jsonl, got $status" >&2; exit 1; }
echo "train.sh: model.etm, model.card.md, model.card.json and expected/ are up to date"
