#!/bin/bash
# KgCoOp few-shot classification on all classes; SHOTS=1|2|4|8|16 (required).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/kgcoop/few_shot.sh DATASET SEED [yacs options]
TRAINER=KgCoOp
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
