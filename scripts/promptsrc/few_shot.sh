#!/bin/bash
# PromptSRC few-shot classification on all classes; SHOTS=1|2|4|8|16 (default 16).
# Usage: DATA=/path/to/datasets SHOTS=4 bash scripts/promptsrc/few_shot.sh DATASET SEED [opts]
TRAINER=PromptSRC
CFG=vit_b16_c2_ep50_batch4_4+4ctx_few_shot
# The authors' GPA for these five datasets; the config's N(30, 30^2) for the others.
case "${1:-}" in
    stanford_cars|oxford_flowers|fgvc_aircraft|dtd|eurosat)
        METHOD_OPTS=(TRAINER.PROMPTSRC.GPA_MEAN 45.0 TRAINER.PROMPTSRC.GPA_STD 5.0) ;;
esac
source "$(dirname "$0")/../common.sh"
few_shot_train "$@"
