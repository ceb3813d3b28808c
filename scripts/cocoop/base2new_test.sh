#!/bin/bash
# CoCoOp base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/cocoop/base2new_test.sh DATASET SEED [yacs options]
TRAINER=CoCoOp
CFG=vit_b16_c4_ep10_batch1_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
