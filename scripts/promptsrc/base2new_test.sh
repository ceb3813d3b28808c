#!/bin/bash
# PromptSRC base-to-new, evaluate the base-trained model on the new classes.
# Usage: DATA=/path/to/datasets bash scripts/promptsrc/base2new_test.sh DATASET SEED [yacs options]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep20_batch4_4+4ctx
XD_CFG=vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
base2new_test "$@"
