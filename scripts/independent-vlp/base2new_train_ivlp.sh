#!/bin/bash
# IVLP's own name (muzairkhattak/multimodal-prompt-learning) for scripts/ivlp/base2new_train.sh.
# Usage: DATA=/path/to/datasets bash scripts/independent-vlp/base2new_train_ivlp.sh DATASET SEED [yacs options]
# with the config MaPLe's repository runs IVLP with (2+2 tokens in all 12 blocks, 5 epochs)
TRAINER_CONFIG="${TRAINER_CONFIG:-vit_b16_c2_ep5_batch4_2+2ctx}" exec bash "$(dirname "$0")/../ivlp/base2new_train.sh" "$@"
