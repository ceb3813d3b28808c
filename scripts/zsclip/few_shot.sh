#!/bin/bash
# Zero-shot CLIP on all classes of a dataset (the few-shot table's zero-shot row; SHOTS only
# names the folder, nothing is trained).
# Usage: DATA=/path/to/datasets SHOTS=16 bash scripts/zsclip/few_shot.sh DATASET SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
