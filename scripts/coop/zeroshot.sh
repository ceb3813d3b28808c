#!/bin/bash
# CoOp's zeroshot.sh (KaiyangZhou/CoOp): zero-shot CLIP on DATASET; CFG names the backbone's
# config under configs/trainers/ZeroshotCLIP/ (vit_b16 here). Same as scripts/zsclip/zeroshot.sh.
# Usage: DATA=/path/to/datasets bash scripts/coop/zeroshot.sh DATASET CFG
source "$(dirname "$0")/../family.sh"
zeroshot_run "${1:-}" "${2:-}"
