#!/bin/bash
# SEP base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/sep/base2new_test.sh DATASET SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep50_batch32
LARGE_CFG=vit_b16_ep10_batch128
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
