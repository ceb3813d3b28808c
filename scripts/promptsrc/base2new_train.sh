#!/bin/bash
# PromptSRC base-to-new, train on the base classes (then test on them).
# Usage: DATA=/path/to/datasets bash scripts/promptsrc/base2new_train.sh DATASET SEED [yacs options]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep20_batch4_4+4ctx
XD_CFG=vit_b16_c2_ep20_batch4_4+4ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
base2new_train "$@"
