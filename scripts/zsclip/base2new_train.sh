#!/bin/bash
# Zero-shot CLIP on the base classes: nothing is trained, the base split is only evaluated.
# Usage: DATA=/path/to/datasets bash scripts/zsclip/base2new_train.sh DATASET SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
