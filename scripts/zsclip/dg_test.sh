#!/bin/bash
# Zero-shot CLIP on an ImageNet variant (domain generalisation): imagenetv2, imagenet_sketch,
# imagenet_a or imagenet_r.
# Usage: DATA=/path/to/datasets bash scripts/zsclip/dg_test.sh DATASET SEED [yacs options]
TRAINER=ZeroshotCLIP
CFG=vit_b16
source "$(dirname "$0")/../common.sh"
xd_test domain_generalization "$@"
