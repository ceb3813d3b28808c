#!/bin/bash
# HiCroPL few-shot classification on all classes; SHOTS=1|2|4|8|16 (default 16).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/hicropl/few_shot.sh DATASET SEED [opts]
TRAINER=HiCroPL
CFG=vit_b16_c2_ep50_batch32_16ctx_few_shot
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
