#!/bin/bash
# MaPLe domain generalisation: evaluate the ImageNet-trained model (xd_train.sh)
# on imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/maple/dg_test.sh DATASET SEED [yacs options]
TRAINER=MaPLe
CFG=vit_b16_c2_ep5_batch4_2ctx
XD_CFG=vit_b16_c2_ep5_batch4_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
