#!/bin/bash
# HiCroPL cross-dataset / domain generalisation, step 1: train on all ImageNet
# classes (SHOTS per class).
# Usage: DATA=/path/to/datasets bash scripts/hicropl/xd_train.sh SEED [yacs options]
TRAINER=HiCroPL
CFG=vit_b16_c2_ep50_batch32_16ctx
XD_CFG=vit_b16_c2_ep5_batch32_2ctx_cross_datasets
source "$(dirname "$0")/../common.sh"
xd_train "$@"
