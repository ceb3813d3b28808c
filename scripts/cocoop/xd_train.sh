#!/bin/bash
# CoCoOp cross-dataset / domain generalisation, step 1: train on all ImageNet classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/cocoop/xd_train.sh SEED [yacs options]
TRAINER=CoCoOp
CFG=vit_b16_c4_ep10_batch1_ctxv1
source "$(dirname "$0")/../common.sh"
xd_train "$@"
