# The CoOp family's own script names and arguments, over this repository's scripts (sourced by
# the wrappers: scripts/coop/main.sh, eval.sh, zeroshot.sh, scripts/zsclip/zeroshot.sh).
# Each wrapper only translates arguments and calls the method scripts, so the run folders and
# results are theirs.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FAMILY_SEEDS=(1 2 3)  # the family's scripts loop over these seeds

family_error() {
    echo "Error: $*" >&2
    exit 2
}

# CoOp's CTP NCTX CSC as TRAINER.COOP options (COOP_OPTIONS); CoOp's defaults (end, False) add
# nothing, so those runs share the folder of the plain scripts' runs with the same N_CTX.
coop_prompt_options() {  # ctp nctx csc
    case "$1" in
        end|middle|front) ;;
        *) family_error "the class token position (CTP) must be end, middle or front, got \"$1\"." ;;
    esac
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || family_error "NCTX must be a whole number >= 1, got \"$2\"."
    case "$3" in
        True|False) ;;
        *) family_error "CSC must be True or False, got \"$3\"." ;;
    esac
    COOP_OPTIONS=(TRAINER.COOP.N_CTX "$2")
    [ "$1" = end ] || COOP_OPTIONS+=(TRAINER.COOP.CLASS_TOKEN_POSITION "$1")
    [ "$3" = False ] || COOP_OPTIONS+=(TRAINER.COOP.CSC True)
}

# The zero-shot protocols by dataset: ImageNet is the cross-dataset source, every other dataset a
# target (the ImageNet variants are filed under domain generalisation by xd_test.sh).
zeroshot_run() {  # dataset config name
    [[ -n "$1" && -n "$2" ]] || family_error "usage: bash $0 DATASET CFG (e.g. caltech101 vit_b16)."
    if [ "$1" = imagenet ]; then
        TRAINER_CONFIG="$2" bash "$SCRIPTS_DIR/zsclip/xd_train.sh" 1
    else
        TRAINER_CONFIG="$2" bash "$SCRIPTS_DIR/zsclip/xd_test.sh" "$1" 1
    fi
}
