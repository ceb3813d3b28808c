#!/bin/bash
# CoOp's eval.sh (KaiyangZhou/CoOp): the ImageNet model of "main.sh imagenet CFG end 16 16 False"
# evaluated on DATASET, seeds 1 2 3 (xd_test.sh; the ImageNet variants go to domain
# generalisation).
# Usage: DATA=/path/to/datasets bash scripts/coop/eval.sh DATASET CFG [yacs options]
source "$(dirname "$0")/../family.sh"
[ "$#" -ge 2 ] || family_error "usage: bash $0 DATASET CFG [yacs options], e.g. imagenetv2 vit_b16_ep50_ctxv1."
DATASET="$1" CFG_NAME="$2"
shift 2
coop_prompt_options end 16 False  # what CoOp's eval.sh fixes, with SHOTS=16
for SEED in "${FAMILY_SEEDS[@]}"; do
    SHOTS=16 TRAINER_CONFIG="$CFG_NAME" bash "$SCRIPTS_DIR/coop/xd_test.sh" "$DATASET" "$SEED" \
        "${COOP_OPTIONS[@]}" "$@"
done
