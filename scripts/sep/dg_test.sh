#!/bin/bash
# SEP domain generalisation: evaluate the ImageNet-trained model on imagenetv2,
# imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/sep/dg_test.sh DATASET SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep3_batch32_xd
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
