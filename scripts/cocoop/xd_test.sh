#!/bin/bash
# CoCoOp cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh) on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/cocoop/xd_test.sh DATASET SEED [yacs options]
TRAINER=CoCoOp
CFG=vit_b16_c4_ep10_batch1_ctxv1
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
