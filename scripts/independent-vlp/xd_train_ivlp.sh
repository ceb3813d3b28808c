#!/bin/bash
# IVLP's own name (muzairkhattak/multimodal-prompt-learning) for scripts/ivlp/xd_train.sh.
# Usage: DATA=/path/to/datasets bash scripts/independent-vlp/xd_train_ivlp.sh imagenet SEED [yacs options]
# with the config MaPLe's repository runs IVLP with (2+2 tokens in all 12 blocks, 5 epochs)
TRAINER_CONFIG="${TRAINER_CONFIG:-vit_b16_c2_ep5_batch4_2+2ctx}" exec bash "$(dirname "$0")/../ivlp/xd_train.sh" "$@"
