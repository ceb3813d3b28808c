#!/bin/bash
# HiCroPL domain generalisation: evaluate the ImageNet-trained model (xd_train.sh)
# on imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/hicropl/dg_test.sh DATASET SEED [yacs options]
TRAINER=HiCroPL
CFG=vit_b16_c2_ep50_batch32_16ctx
XD_CFG=vit_b16_c2_ep5_batch32_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
