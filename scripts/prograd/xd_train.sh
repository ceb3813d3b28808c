#!/bin/bash
# ProGrad cross-dataset / domain generalisation, step 1: train on all ImageNet classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/prograd/xd_train.sh SEED [yacs options]
TRAINER=ProGrad
CFG=vit_b16_ep50  # trained on ImageNet: 50 epochs, the authors' ImageNet setting
source "$(dirname "$0")/../common.sh"
xd_train "$@"
