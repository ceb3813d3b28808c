#!/bin/bash
# TCP base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/tcp/base2new_train.sh DATASET SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
