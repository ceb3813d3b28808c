#!/bin/bash
# IVLP few-shot classification on all classes; SHOTS=1|2|4|8|16 (required).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/ivlp/few_shot.sh DATASET SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
