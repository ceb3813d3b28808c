#!/bin/bash
# TCP base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/tcp/base2new_test.sh DATASET SEED [yacs options]
TRAINER=TCP
CFG=vit_b16_ep100_ctxv1
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
