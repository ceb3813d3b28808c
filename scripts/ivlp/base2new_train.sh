#!/bin/bash
# IVLP base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/ivlp/base2new_train.sh DATASET SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
