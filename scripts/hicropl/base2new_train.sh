#!/bin/bash
# HiCroPL base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/hicropl/base2new_train.sh DATASET SEED [yacs options]
TRAINER=HiCroPL
CFG=vit_b16_c2_ep50_batch32_16ctx
XD_CFG=vit_b16_c2_ep5_batch32_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
