# Shared by every method's scripts (sourced, not run). A method script sets
#   TRAINER      trainer name (CoOp, CoCoOp, KgCoOp, SEP, ZeroshotCLIP)
#   CFG          trainer config under configs/trainers/$TRAINER/
#   LARGE_CFG    optional config for ImageNet and SUN397 (defaults to CFG)
#                (the generated world's datasets, world_*, always use world.yaml)
#   XD_CFG       optional config for cross-dataset / domain-generalisation training
#   METHOD_OPTS  optional array of yacs options the method always passes
# and calls one of the functions at the bottom with "$@".
# Environment: DATA (dataset root, required), OUTPUT (default output), SHOTS (default 16;
# required by few_shot.sh), PYTHON (default python), TRAINER_CONFIG (optional: another config
# of configs/trainers/$TRAINER/ than the script's, as the family's scripts take one).
set -euo pipefail

# SEP_DESCRIBE_METHOD=1: print the method script's TRAINER and configs as NAME=value lines and
# stop (tools/sweeps learns a method's configs this way instead of parsing its script).
if [ "${SEP_DESCRIBE_METHOD:-}" = 1 ]; then
    printf '%s\n' "TRAINER=$TRAINER" "CFG=$CFG" "LARGE_CFG=${LARGE_CFG:-}" "XD_CFG=${XD_CFG:-}"
    exit 0
fi

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT="${OUTPUT:-output}"
SHOTS_GIVEN="${SHOTS:+yes}"
SHOTS="${SHOTS:-16}"
PYTHON="${PYTHON:-python}"
METHOD_OPTS=("${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}")

usage_exit() {
    echo "Error: Usage: bash $0 $1 [yacs options, e.g. OPTIM.MAX_EPOCH 2]" >&2
    echo "Environment: DATA=<datasets root> (required), OUTPUT=<output root> (default output)," >&2
    echo "SHOTS=<shots per class> (default 16)." >&2
    exit 2
}

require_data_root() {
    if [ -z "${DATA:-}" ]; then
        echo "Error: DATA is not set: run as DATA=/path/to/datasets bash $0 ..." >&2
        echo "(the folder that holds caltech-101/, oxford_pets/, imagenet/, ... see README)" >&2
        exit 2
    fi
    if [ ! -d "$DATA" ]; then
        echo "Error: DATA=$DATA is not a folder. Point DATA at the folder that holds the datasets." >&2
        exit 2
    fi
}

# Each entry point checks its arguments first, so that a mistake stops the script with one line
# before anything runs.
check_seed() {
    if ! [[ "$1" =~ ^[0-9]+$ ]]; then
        echo "Error: SEED must be a whole number >= 0 (e.g. 1), got \"$1\"." >&2
        exit 2
    fi
}

check_shots() {
    if ! [[ "$SHOTS" =~ ^[0-9]+$ ]] || [ "$SHOTS" -lt 1 ]; then
        echo "Error: SHOTS must be a whole number >= 1 (training images per class), got \"$SHOTS\"." >&2
        exit 2
    fi
}

check_inputs() {  # dataset (or "") seed
    require_data_root
    check_seed "$2"
    check_shots
    if [ -n "$1" ]; then dataset_config "$1" >/dev/null; fi
    check_trainer_config
}

check_trainer_config() {
    [ -n "${TRAINER_CONFIG:-}" ] || return 0
    if [ ! -f "$REPO_ROOT/configs/trainers/$TRAINER/$TRAINER_CONFIG.yaml" ]; then
        local known
        known=$(cd "$REPO_ROOT/configs/trainers/$TRAINER" && ls *.yaml | sed 's/\.yaml$//' | tr '\n' ' ')
        echo "Error: no config \"$TRAINER_CONFIG\" for $TRAINER (configs/trainers/$TRAINER/$TRAINER_CONFIG.yaml); known: $known" >&2
        exit 2
    fi
}

# DATASET is a name under configs/datasets/ or the path of a user's dataset yaml (docs/own_data.md);
# a yaml's file stem is the dataset's name in run folders.
dataset_config() {
    local file="$REPO_ROOT/configs/datasets/$1.yaml"
    case "$1" in
        *.yaml|*.yml)
            [ -f "$1" ] || { echo "Error: dataset config \"$1\" is not a file." >&2; exit 2; }
            file="$(absolute "$1")" ;;
    esac
    if [ ! -f "$file" ]; then
        local known
        known=$(cd "$REPO_ROOT/configs/datasets" && ls *.yaml | sed 's/\.yaml$//' | tr '\n' ' ')
        echo "Error: Unknown dataset \"$1\". Known: $known" >&2
        exit 2
    fi
    echo "$file"
}

# The run's config, its folder and, for a test, the folder of the model it loads, one a line,
# from run/layout.py: the one owner of the layout (tools/sweep.py and the results tools import
# it). Plain python3, not $PYTHON: the layout needs only the standard library, and PYTHON may be
# a wrapper meant for train.py alone.
run_layout() {  # protocol stage dataset seed [yacs options]
    local protocol="$1" stage="$2" dataset="$3" seed="$4"; shift 4
    python3 "$REPO_ROOT/run/layout.py" --output "$(absolute "$OUTPUT")" --trainer "$TRAINER" \
        --shots "$SHOTS" --cfg "$CFG" --large-cfg "${LARGE_CFG:-}" --xd-cfg "${XD_CFG:-}" \
        --trainer-config "${TRAINER_CONFIG:-}" \
        "$protocol" "$stage" "$dataset" "$seed" -- "$@"
}

is_finished() {
    [ -f "$1/result.json" ]
}

# train.py with the common arguments; resumes from the checkpoints already in the output folder.
# TORCHRUN_NPROC=N (above 1) starts it with torchrun, one process per GPU (tools/sweep.py sets it).
run_train_py() {
    local dataset="$1" seed="$2" cfg="$3" outdir="$4"; shift 4
    local launcher=("$PYTHON")
    if [ "${TORCHRUN_NPROC:-1}" != 1 ]; then
        if ! [[ "$TORCHRUN_NPROC" =~ ^[1-9][0-9]*$ ]]; then
            echo "Error: TORCHRUN_NPROC must be a whole number >= 1, got \"$TORCHRUN_NPROC\"." >&2
            exit 2
        fi
        launcher+=(-m torch.distributed.run --standalone --nproc_per_node "$TORCHRUN_NPROC")
    fi
    # Run from the caller's folder, so relative paths (DATA, a CLIP file) mean what the user typed.
    "${launcher[@]}" "$REPO_ROOT/train.py" \
        --root "$DATA" \
        --seed "$seed" \
        --trainer "$TRAINER" \
        --dataset-config-file "$(dataset_config "$dataset")" \
        --config-file "$REPO_ROOT/configs/trainers/$TRAINER/$cfg.yaml" \
        --output-dir "$outdir" \
        "$@"
}

announce() {
    if is_finished "$1"; then
        echo "Results are available in $1. Skip this job"
        return 1
    fi
    if [ -d "$1" ]; then
        echo "Resume the unfinished job in $1"
    else
        echo "Run this job and save the output to $1"
    fi
}

absolute() {
    case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac
}

base2new_train() {
    [ "$#" -ge 2 ] || usage_exit "DATASET SEED"
    local dataset="$1" seed="$2"; shift 2
    check_inputs "$dataset" "$seed"
    local layout; layout=$(run_layout base2new train_base "$dataset" "$seed" "$@")
    local cfg outdir; { read -r cfg; read -r outdir; } <<< "$layout"
    announce "$outdir" || return 0
    run_train_py "$dataset" "$seed" "$cfg" "$outdir" \
        DATASET.NUM_SHOTS "$SHOTS" DATASET.SUBSAMPLE_CLASSES base \
        "${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}" "$@"
}

base2new_test() {
    [ "$#" -ge 2 ] || usage_exit "DATASET SEED"
    local dataset="$1" seed="$2"; shift 2
    check_inputs "$dataset" "$seed"
    local layout; layout=$(run_layout base2new test_new "$dataset" "$seed" "$@")
    local cfg outdir model_dir; { read -r cfg; read -r outdir; read -r model_dir; } <<< "$layout"
    if [ "$TRAINER" != "ZeroshotCLIP" ] && ! is_finished "$model_dir"; then
        echo "Error: No finished base-class training in $model_dir: run base2new_train.sh first" \
             "with the same DATASET, SEED and options." >&2
        exit 1
    fi
    announce "$outdir" || return 0
    local model_args=(--model-dir "$model_dir")
    [ "$TRAINER" = "ZeroshotCLIP" ] && model_args=()
    run_train_py "$dataset" "$seed" "$cfg" "$outdir" "${model_args[@]+"${model_args[@]}"}" \
        --eval-only DATASET.NUM_SHOTS "$SHOTS" DATASET.SUBSAMPLE_CLASSES new \
        "${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}" "$@"
}

# Cross-dataset transfer and domain generalisation: train once on all ImageNet classes...
xd_train() {
    [ "$#" -ge 1 ] || usage_exit "[imagenet] SEED"
    # MaPLe's and PromptSRC's scripts name the training set first: "xd_train.sh imagenet 1".
    require_data_root
    if [ "$1" = imagenet ]; then shift; [ "$#" -ge 1 ] || usage_exit "[imagenet] SEED"; fi
    if [ -f "$REPO_ROOT/configs/datasets/$1.yaml" ]; then
        echo "Error: $0 trains on ImageNet only, got \"$1\": run it as $0 [imagenet] SEED." >&2
        exit 2
    fi
    local seed="$1"; shift
    check_inputs "" "$seed"
    local layout; layout=$(run_layout cross_dataset train imagenet "$seed" "$@")
    local cfg outdir; { read -r cfg; read -r outdir; } <<< "$layout"
    announce "$outdir" || return 0
    run_train_py imagenet "$seed" "$cfg" "$outdir" DATASET.NUM_SHOTS "$SHOTS" \
        "${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}" "$@"
}

# ...then evaluate that model on another dataset (cross_dataset) or an ImageNet variant
# (domain_generalization).
xd_test() {
    local protocol="$1"; shift
    [ "$#" -ge 2 ] || usage_exit "DATASET SEED"
    local dataset="$1" seed="$2"; shift 2
    check_inputs "$dataset" "$seed"
    local layout; layout=$(run_layout "$protocol" test "$dataset" "$seed" "$@")
    local cfg outdir model_dir; { read -r cfg; read -r outdir; read -r model_dir; } <<< "$layout"
    local model_args=(--model-dir "$model_dir")
    if [ "$TRAINER" = "ZeroshotCLIP" ]; then
        model_args=()
    elif ! is_finished "$model_dir"; then
        echo "Error: No finished ImageNet training in $model_dir: run xd_train.sh $seed first." >&2
        exit 1
    fi
    announce "$outdir" || return 0
    run_train_py "$dataset" "$seed" "$cfg" "$outdir" "${model_args[@]+"${model_args[@]}"}" --eval-only \
        "${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}" "$@"
}

few_shot_train() {
    [ "$#" -ge 2 ] || usage_exit "DATASET SEED"
    # PromptSRC's own few_shot.sh takes "DATASET SHOTS": without SHOTS set, "few_shot.sh dtd 4"
    # would silently run seed 4 with 16 shots.
    if [ -z "$SHOTS_GIVEN" ]; then
        echo "Error: set SHOTS for few-shot runs: SHOTS=4 bash $0 $1 SEED (this script's second argument is the seed)." >&2
        exit 2
    fi
    local dataset="$1" seed="$2"; shift 2
    check_inputs "$dataset" "$seed"
    local layout; layout=$(run_layout few_shot train "$dataset" "$seed" "$@")
    local cfg outdir; { read -r cfg; read -r outdir; } <<< "$layout"
    announce "$outdir" || return 0
    run_train_py "$dataset" "$seed" "$cfg" "$outdir" DATASET.NUM_SHOTS "$SHOTS" \
        "${METHOD_OPTS[@]+"${METHOD_OPTS[@]}"}" "$@"
}
