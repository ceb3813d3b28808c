#!/bin/bash
# IVLP cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh)
# on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/ivlp/xd_test.sh DATASET SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
