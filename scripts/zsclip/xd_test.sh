#!/bin/bash
# Zero-shot CLIP on all classes of a cross-dataset target (or an ImageNet variant).
# Usage: DATA=/path/to/datasets bash scripts/zsclip/xd_test.sh DATASET SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
xd_test cross_dataset "$@"
