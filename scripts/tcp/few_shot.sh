#!/bin/bash
# TCP few-shot classification on all classes; SHOTS=1|2|4|8|16 (required). The authors publish
# base-to-new only, so this runs their base-to-new config.
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/tcp/few_shot.sh DATASET SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
