#!/bin/bash
# ProGrad base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/prograd/base2new_test.sh DATASET SEED [yacs options]
TRAINER=ProGrad
CFG=vit_b16_ep100
if [ "${1:-}" = imagenet ]; then CFG=vit_b16_ep50; fi  # the authors: 50 epochs on ImageNet
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
