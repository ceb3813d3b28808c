"""Train or evaluate a CLIP prompt learner (CoOp-family command line).

    python train.py --root DATA --seed 1 --trainer SEP \
        --dataset-config-file configs/datasets/caltech101.yaml \
        --config-file configs/trainers/SEP/vit_b16_ep50_batch32.yaml \
        --output-dir output/run DATASET.NUM_SHOTS 16 DATASET.SUBSAMPLE_CLASSES base
"""

import argparse
import os
import sys
import time

import torch

import dassl_setup  # before any dassl import: a real Dassl wins over the subset

# isort: split
from dassl.engine import build_trainer
from dassl.utils import Logger, collect_env_info, set_random_seed, setup_logger

import datasets  # noqa: F401  (registers the datasets)
import trainers  # noqa: F401  (registers the trainers)
from launch.run_checks import check_run_inputs, model_names
from run.config import setup_cfg
from run.disk_errors import disk_write_error, is_write_failure
from run.distributed import (
    check_global_batch,
    close_process_group,
    init_process_group,
    launched_by_torchrun,
    process_rank,
    world_size,
)
from run.run_folder import (
    check_same_options,
    remove_temporary_files,
    run_folder_lock,
    run_options,
)
from run.user_errors import UserError, short_message

LOG_FILE = "log.txt"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=str, default="", help="path to the datasets folder")
    parser.add_argument("--output-dir", type=str, default="", help="output directory")
    parser.add_argument("--resume", type=str, default="", help="checkpoint folder to resume from")
    parser.add_argument("--seed", type=int, default=None, help="fixed seed if >= 0 (0 included)")
    parser.add_argument("--source-domains", type=str, nargs="+", help="source domains")
    parser.add_argument("--target-domains", type=str, nargs="+", help="target domains")
    parser.add_argument("--transforms", type=str, nargs="+", help="data augmentation methods")
    parser.add_argument("--config-file", type=str, default="", help="trainer config file")
    parser.add_argument("--dataset-config-file", type=str, default="", help="dataset config file")
    parser.add_argument("--trainer", type=str, default="", help="name of the trainer")
    parser.add_argument("--backbone", type=str, default="", help="CLIP model name or file path")
    parser.add_argument("--head", type=str, default="", help="name of the head")
    parser.add_argument("--eval-only", action="store_true", help="evaluation only")
    parser.add_argument("--model-dir", type=str, default="", help="load the model from here")
    parser.add_argument("--load-epoch", type=int, help="load the weights of this epoch")
    parser.add_argument("--no-train", action="store_true", help="do not train")
    parser.add_argument(
        "opts", default=None, nargs=argparse.REMAINDER, help="config options, e.g. OPTIM.LR 0.01"
    )
    return parser.parse_args(argv)


def print_args(args, cfg):
    print("***************")
    print("** Arguments **")
    print("***************")
    for key in sorted(vars(args)):
        print(f"{key}: {getattr(args, key)}")
    print("************")
    print("** Config **")
    print("************")
    print(cfg)


def setup_run_log(output_dir):
    """Tee stdout into ``output_dir/log.txt``.

    A run started again in the same folder (a killed run resuming) appends to that log rather
    than starting ``log.txt-<time>`` as Dassl would: log parsers read log.txt only, and the final
    result of a resumed run belongs there.
    """
    log_path = os.path.join(output_dir, LOG_FILE)
    if not os.path.exists(log_path):
        setup_logger(output_dir)
        # line-buffered, so that a killed run's log ends where it died (real Dassl's Logger
        # opens its file block-buffered)
        log_file = getattr(sys.stdout, "file", None)
        if hasattr(log_file, "reconfigure"):
            log_file.reconfigure(line_buffering=True)
        return log_path
    logger = Logger()  # console only; the file is opened for appending below
    logger.file = open(log_path, "a", buffering=1)
    sys.stdout = logger
    print(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')}: started again in this folder =====")
    return log_path


def quiet_other_processes():
    """Under torchrun only the main process prints and writes log.txt."""
    sys.stdout = open(os.devnull, "w")


def main(args):
    config_notes = []  # the family's option names read as ours, for the run's log
    cfg = setup_cfg(args, config_notes)
    check_run_inputs(cfg, args)
    if launched_by_torchrun() and not (args.eval_only or args.no_train):
        check_global_batch(cfg, world_size())
    if process_rank() != 0:  # under torchrun the main process holds the folder for all
        run_in_process_group(cfg, args, config_notes)
        return
    with run_folder_lock(cfg.OUTPUT_DIR):
        names = model_names(cfg)
        remove_temporary_files(cfg.OUTPUT_DIR, names)
        check_same_options(cfg.OUTPUT_DIR, run_options(cfg, args.eval_only), names)
        run_in_process_group(cfg, args, config_notes)


def run_in_process_group(cfg, args, config_notes=()):
    """``run``, in torchrun's process group when torchrun started train.py (the group forms
    once the main process has checked the folder)."""
    if launched_by_torchrun():
        init_process_group(cfg.USE_CUDA)
    try:
        run(cfg, args, config_notes)
    finally:
        close_process_group()


def run(cfg, args, config_notes=()):
    if cfg.SEED >= 0:
        print(f"Setting fixed seed: {cfg.SEED}")
        set_random_seed(cfg.SEED)
    if process_rank() == 0:
        setup_run_log(cfg.OUTPUT_DIR)
    else:
        quiet_other_processes()
    if torch.cuda.is_available() and cfg.USE_CUDA:
        torch.backends.cudnn.benchmark = True
    print_args(args, cfg)
    for note in config_notes:
        print(f"Config note: {note}")
    print(f"Dassl: {dassl_setup.dassl_description()}")
    print("Collecting env info ...")
    print(f"** System info **\n{collect_env_info()}\n")

    trainer = build_trainer(cfg)
    if args.eval_only:
        trainer.load_model(args.model_dir, epoch=args.load_epoch)
        trainer.test()
        return
    if not args.no_train:
        trainer.train()


def report(message):
    """``message`` on stderr and, if it can still be written, in the run's log."""
    log_file = getattr(sys.stdout, "file", None)
    try:
        sys.stdout.flush()
        if log_file is not None:
            log_file.write(message + "\n")
            log_file.flush()
    except OSError:
        pass  # the log's own disk is full or gone; stderr still gets the message
    print(message, file=sys.stderr)


def cli(argv=None):
    """Run train.py; returns the exit status.

    A UserError (bad config, data, backbone or checkpoint, a diverged loss, a full or read-only
    disk) is reported as one "Error: ..." message on stderr (and in the log, if one is open) with
    status 2; Ctrl-C as one line saying how to resume, status 130. Any other exception is a bug
    and keeps its traceback.
    """
    args = parse_args(argv)
    try:
        main(args)
    except KeyboardInterrupt:
        again = "evaluate" if args.eval_only else "resume from the last saved epoch"
        if process_rank() == 0:  # under torchrun every process meets it; the main one reports
            report(f"Interrupted. Run the same command again to {again}.")
        return 130
    except (UserError, OSError, RuntimeError) as error:
        if not isinstance(error, UserError):
            if not is_write_failure(error):
                raise
            error = disk_write_error(getattr(error, "filename", None) or args.output_dir, error)
        if process_rank() == 0:  # under torchrun every process meets it; the main one reports
            report(f"Error: {short_message(error)}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
