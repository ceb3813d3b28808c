#!/bin/bash
# MaPLe's own name (muzairkhattak/multimodal-prompt-learning) for scripts/maple/xd_test.sh.
# Usage: DATA=/path/to/datasets bash scripts/maple/xd_test_maple.sh DATASET SEED [yacs options]
exec bash "$(dirname "$0")/xd_test.sh" "$@"
