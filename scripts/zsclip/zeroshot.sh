#!/bin/bash
# zeroshot.sh of MaPLe's and PromptSRC's repositories: zero-shot CLIP on DATASET (ImageNet: the
# cross-dataset source; any other dataset: a cross-dataset or domain-generalisation target), seed 1.
# Usage: DATA=/path/to/datasets bash scripts/zsclip/zeroshot.sh DATASET CFG
source "$(dirname "$0")/../family.sh"
zeroshot_run "${1:-}" "${2:-}"
