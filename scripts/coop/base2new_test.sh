#!/bin/bash
# CoOp base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/coop/base2new_test.sh DATASET SEED [yacs options]
TRAINER=CoOp
CFG=vit_b16_ep50_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
