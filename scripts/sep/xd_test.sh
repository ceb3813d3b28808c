#!/bin/bash
# SEP cross-dataset transfer: evaluate the ImageNet-trained model on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/sep/xd_test.sh DATASET SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep3_batch32_xd
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
