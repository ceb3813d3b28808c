#!/bin/bash
# CoOp cross-dataset / domain generalisation, step 1: train on all ImageNet classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/coop/xd_train.sh SEED [yacs options]
TRAINER=CoOp
CFG=vit_b16_ep50_ctxv1
source "$(dirname "$0")/../common.sh"
xd_train "$@"
