#!/bin/bash
# CoOp domain generalisation: evaluate the ImageNet-trained model (xd_train.sh) on
# imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/coop/dg_test.sh DATASET SEED [yacs options]
TRAINER=CoOp
CFG=vit_b16_ep50_ctxv1
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
