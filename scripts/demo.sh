#!/bin/bash
# Offline demo on built-in toy data: writes a toy dataset in the real Caltech101 layout plus a
# tiny random CLIP, runs the base-to-new pipeline for SEP, CoOp and zero-shot CLIP through the
# same scripts a user runs on real data, and prints the comparison table.
# Usage: bash scripts/demo.sh   (TOY_DATA and OUTPUT may be set; PYTHON defaults to python)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
TOY_DATA="$(mkdir -p "${TOY_DATA:-toy_data}" && cd "${TOY_DATA:-toy_data}" && pwd)"
export DATA="$TOY_DATA" OUTPUT="${OUTPUT:-output/demo}" PYTHON SHOTS=4

"$PYTHON" tools/make_toy_data.py --root "$TOY_DATA"
# The toy set-up: 32 px images, the tiny CLIP, a few epochs, everything on the CPU.
OPTS=(MODEL.BACKBONE.NAME "$TOY_DATA/tiny_clip.pt" INPUT.SIZE "(32,32)" DATALOADER.NUM_WORKERS 0
      DATALOADER.TRAIN_X.BATCH_SIZE 4 DATALOADER.TEST.BATCH_SIZE 32 OPTIM.MAX_EPOCH 6
      OPTIM.WARMUP_EPOCH 0 OPTIM.LR 0.01)

for method in sep coop zsclip; do
    bash "scripts/$method/base2new_train.sh" caltech101 1 "${OPTS[@]}"
    bash "scripts/$method/base2new_test.sh" caltech101 1 "${OPTS[@]}"
done
"$PYTHON" tools/compare_results.py "$OUTPUT" --datasets caltech101 --seeds 1
