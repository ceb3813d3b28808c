#!/bin/bash
# PromptSRC cross-dataset / domain generalisation, step 1: train on all ImageNet
# classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/promptsrc/xd_train.sh SEED [yacs options]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep20_batch4_4+4ctx
XD_CFG=vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_train "$@"
