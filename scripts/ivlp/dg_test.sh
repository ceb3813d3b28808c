#!/bin/bash
# IVLP domain generalisation: evaluate the ImageNet-trained model (xd_train.sh)
# on imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/ivlp/dg_test.sh DATASET SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
