#!/bin/bash
# PromptSRC domain generalisation: evaluate the ImageNet-trained model (xd_train.sh)
# on imagenetv2, imagenet_sketch, imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/promptsrc/dg_test.sh DATASET SEED [yacs options]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep20_batch4_4+4ctx
XD_CFG=vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
