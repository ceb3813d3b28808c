#!/bin/bash
# ProGrad cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh) on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/prograd/xd_test.sh DATASET SEED [yacs options]
TRAINER=ProGrad
CFG=vit_b16_ep50  # trained on ImageNet: 50 epochs, the authors' ImageNet setting
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
