#!/bin/bash
# KgCoOp cross-dataset / domain generalisation, step 1: train on all ImageNet classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/kgcoop/xd_train.sh SEED [yacs options]
TRAINER=KgCoOp
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
xd_train "$@"
