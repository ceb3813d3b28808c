#!/bin/bash
# SEP cross-dataset / domain generalisation, step 1: train on all ImageNet classes (16 shots).
# Usage: DATA=/path/to/datasets bash scripts/sep/xd_train.sh SEED [yacs options]
TRAINER=SEP
CFG=vit_b16_ep3_batch32_xd
source "$(dirname "$0")/../common.sh"
xd_train "$@"
