#!/bin/bash
# KgCoOp base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/kgcoop/base2new_test.sh DATASET SEED [yacs options]
TRAINER=KgCoOp
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
