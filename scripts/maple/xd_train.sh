#!/bin/bash
# MaPLe cross-dataset / domain generalisation, step 1: train on all ImageNet
# classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/maple/xd_train.sh SEED [yacs options]
TRAINER=MaPLe
CFG=vit_b16_c2_ep5_batch4_2ctx
XD_CFG=vit_b16_c2_ep5_batch4_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_train "$@"
