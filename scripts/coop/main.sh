#!/bin/bash
# CoOp's main.sh (KaiyangZhou/CoOp): few-shot CoOp on all classes of DATASET, seeds 1 2 3, as
# scripts/coop/few_shot.sh runs it (ImageNet: xd_train.sh, the model eval.sh transfers, as in
# CoOp). CFG is a config of configs/trainers/CoOp/; CTP, NCTX and CSC become TRAINER.COOP options.
# Usage: DATA=/path/to/datasets bash scripts/coop/main.sh DATASET CFG CTP NCTX SHOTS CSC [yacs options]
source "$(dirname "$0")/../family.sh"
[ "$#" -ge 6 ] || family_error "usage: bash $0 DATASET CFG CTP NCTX SHOTS CSC [yacs options], e.g. caltech101 vit_b16_ep50_ctxv1 end 16 1 False."
DATASET="$1" CFG_NAME="$2" SHOTS="$5"
coop_prompt_options "$3" "$4" "$6"
shift 6
for SEED in "${FAMILY_SEEDS[@]}"; do
    if [ "$DATASET" = imagenet ]; then
        SHOTS="$SHOTS" TRAINER_CONFIG="$CFG_NAME" bash "$SCRIPTS_DIR/coop/xd_train.sh" "$SEED" \
            "${COOP_OPTIONS[@]}" "$@"
    else
        SHOTS="$SHOTS" TRAINER_CONFIG="$CFG_NAME" bash "$SCRIPTS_DIR/coop/few_shot.sh" "$DATASET" \
            "$SEED" "${COOP_OPTIONS[@]}" "$@"
    fi
done
