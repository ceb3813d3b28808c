#!/bin/bash
# CoCoOp base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/cocoop/base2new_train.sh DATASET SEED [yacs options]
TRAINER=CoCoOp
CFG=vit_b16_c4_ep10_batch1_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
