#!/bin/bash
# PromptSRC cross-dataset transfer: evaluate the ImageNet-trained model (xd_train.sh)
# on another dataset.
# Usage: DATA=/path/to/datasets bash scripts/promptsrc/xd_test.sh DATASET SEED [yacs options]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep20_batch4_4+4ctx
XD_CFG=vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
