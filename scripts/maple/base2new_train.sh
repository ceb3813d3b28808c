#!/bin/bash
# MaPLe base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/maple/base2new_train.sh DATASET SEED [yacs options]
TRAINER=MaPLe
CFG=vit_b16_c2_ep5_batch4_2ctx
XD_CFG=vit_b16_c2_ep5_batch4_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
