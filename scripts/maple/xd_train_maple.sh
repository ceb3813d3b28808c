#!/bin/bash
# MaPLe's own name (muzairkhattak/multimodal-prompt-learning) for scripts/maple/xd_train.sh.
# Usage: DATA=/path/to/datasets bash scripts/maple/xd_train_maple.sh imagenet SEED [yacs options]
exec bash "$(dirname "$0")/xd_train.sh" "$@"
