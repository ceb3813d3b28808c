#!/bin/bash
# CoOp base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/coop/base2new_train.sh DATASET SEED [yacs options]
TRAINER=CoOp
CFG=vit_b16_ep50_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
