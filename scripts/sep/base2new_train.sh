#!/bin/bash
# SEP base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/sep/base2new_train.sh DATASET SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep50_batch32
LARGE_CFG=vit_b16_ep10_batch128
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
