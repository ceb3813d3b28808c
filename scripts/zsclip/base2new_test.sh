#!/bin/bash
# Zero-shot CLIP on the new classes (the "New" column; its "Base" comes from base2new_train.sh).
# Usage: DATA=/path/to/datasets bash scripts/zsclip/base2new_test.sh DATASET SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
