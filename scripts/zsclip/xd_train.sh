#!/bin/bash
# Zero-shot CLIP on all ImageNet classes (the cross-dataset table's source column; nothing is
# trained).
# Usage: DATA=/path/to/datasets bash scripts/zsclip/xd_train.sh [imagenet] SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
xd_train "$@"
