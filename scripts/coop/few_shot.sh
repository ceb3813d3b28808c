#!/bin/bash
# CoOp few-shot classification on all classes; SHOTS=1|2|4|8|16 (required).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/coop/few_shot.sh DATASET SEED [yacs options]
TRAINER=CoOp
CFG=vit_b16_ep50_ctxv1
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
