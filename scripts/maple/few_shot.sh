#!/bin/bash
# MaPLe few-shot classification on all classes; SHOTS=1|2|4|8|16 (required).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/maple/few_shot.sh DATASET SEED [yacs options]
TRAINER=MaPLe
CFG=vit_b16_c2_ep5_batch4_2ctx
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
