#!/bin/bash
# IVLP cross-dataset / domain generalisation, step 1: train on all ImageNet
# classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/ivlp/xd_train.sh SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
xd_train "$@"
