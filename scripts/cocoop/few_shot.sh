#!/bin/bash
# CoCoOp few-shot classification on all classes; SHOTS=1|2|4|8|16 (required).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/cocoop/few_shot.sh DATASET SEED [yacs options]
TRAINER=CoCoOp
CFG=vit_b16_c4_ep10_batch1_ctxv1
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
