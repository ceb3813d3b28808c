#!/bin/bash
# TCP domain generalisation: evaluate the ImageNet-trained model (xd_train.sh) on
# imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/tcp/dg_test.sh DATASET SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
