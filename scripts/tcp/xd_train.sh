#!/bin/bash
# TCP cross-dataset / domain generalisation, step 1: train on all ImageNet classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/tcp/xd_train.sh SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
xd_train "$@"
