#!/bin/bash
# SEP few-shot classification on all classes; SHOTS=1|2|4|8|16 (default 16).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/sep/few_shot.sh DATASET SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep50_batch32
LARGE_CFG=vit_b16_ep10_batch128
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
