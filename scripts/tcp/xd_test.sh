#!/bin/bash
# TCP cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh) on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/tcp/xd_test.sh DATASET SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
