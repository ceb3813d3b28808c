#!/bin/bash
# MaPLe cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh)
# on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/maple/xd_test.sh DATASET SEED [yacs options]
TRAINER=MaPLe
CFG=vit_b16_c2_ep5_batch4_2ctx
XD_CFG=vit_b16_c2_ep5_batch4_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
