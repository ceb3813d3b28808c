#!/bin/bash
# ProGrad domain generalisation: evaluate the ImageNet-trained model (xd_train.sh) on
# imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/prograd/dg_test.sh DATASET SEED [yacs options]
TRAINER=ProGrad
CFG=vit_b16_ep50  # trained on ImageNet: 50 epochs, the authors' ImageNet setting
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
