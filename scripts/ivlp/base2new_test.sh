#!/bin/bash
# IVLP base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/ivlp/base2new_test.sh DATASET SEED [yacs options]
TRAINER=IVLP
CFG=vit_b16_c2_ep20_batch4_4+4ctx
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
