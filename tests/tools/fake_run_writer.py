"""Writers of fake run directories in the exact formats Dassl and the scripts produce."""

import json
import os


def dassl_result_block(accuracy, total=1000, macro_f1=None):
    """The lines Dassl's classification evaluator prints (one decimal, thousands separators)."""
    correct = round(total * accuracy / 100)
    macro_f1 = accuracy - 0.4 if macro_f1 is None else macro_f1
    return [
        "=> result",
        f"* total: {total:,}",
        f"* correct: {correct:,}",
        f"* accuracy: {accuracy:.1f}%",
        f"* error: {100 - accuracy:.1f}%",
        f"* macro_f1: {macro_f1:.1f}%",
    ]


def training_log(accuracy, signal="Finish training", val_accuracy=None, total=1000):
    """A training log: progress, an optional validation result, the end signal, the test."""
    lines = [
        "Setting fixed seed: 1",
        "Building model",
        "epoch [1/2] batch [1/4] time 0.1 (0.1) loss 2.3000 (2.3000) acc 12.5 (12.5) lr 2e-03",
    ]
    if val_accuracy is not None:
        lines += ["Evaluate on the *val* set"] + dassl_result_block(val_accuracy, total=100)
    lines += [
        "epoch [2/2] batch [4/4] time 0.1 (0.1) loss 1.2000 (1.7000) acc 50.0000 (40.0000) lr 0",
        "Checkpoint saved to output/x/prompt_learner/model.pth.tar-2",
    ]
    if signal == "both":  # the built-in engine prints both lines
        lines += ["Finish training", "Finished training"]
    else:
        lines.append(signal)
    lines += ["Deploy the last-epoch model", "Evaluate on the *test* set"]
    lines += dassl_result_block(accuracy, total=total)
    lines.append("Elapsed: 0:00:42")
    return lines


def eval_only_log(accuracy, total=1000):
    lines = [
        "Setting fixed seed: 1",
        "Loading weights to prompt_learner from \"output/x/model.pth.tar-2\" (epoch = 2)",
        "Evaluate on the *test* set",
    ]
    return lines + dassl_result_block(accuracy, total=total)


class RunWriter:
    """Writes run directories (log.txt, optionally result.json) under a root folder."""

    def __init__(self, root):
        self.root = str(root)

    def run(
        self,
        run_dir,
        accuracy,
        eval_only=False,
        signal="Finish training",
        json_accuracy=None,
        json_fields=None,
        val_accuracy=None,
    ):
        """One run: log.txt with ``accuracy`` (printed at one decimal) and, when
        ``json_accuracy`` is given, a result.json carrying that full-precision value."""
        os.makedirs(run_dir, exist_ok=True)
        if eval_only:
            lines = eval_only_log(accuracy)
        else:
            lines = training_log(accuracy, signal=signal, val_accuracy=val_accuracy)
        with open(os.path.join(run_dir, "log.txt"), "w") as log_file:
            log_file.write("\n".join(lines) + "\n")
        if json_accuracy is not None:
            content = {
                "accuracy": json_accuracy,
                "error": 100 - json_accuracy,
                "macro_f1": json_accuracy - 0.4,
                "total": 1000,
                "correct": round(10 * json_accuracy),
                "split": "test",
            }
            content.update(json_fields or {})
            with open(os.path.join(run_dir, "result.json"), "w") as json_file:
                json.dump(content, json_file)
        return run_dir

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def base2new(
        self,
        dataset,
        trainer,
        tag,
        seed,
        base=None,
        new=None,
        shots=16,
        base_json=None,
        new_json=None,
    ):
        """The train_base run (Base) and the test_new eval-only run (New) of one seed."""
        tail = (dataset, f"shots_{shots}", trainer, tag, f"seed{seed}")
        if base is not None:
            self.run(
                self.path("base2new", "train_base", *tail),
                base,
                json_accuracy=base_json,
                json_fields={"subsample": "base", "seed": seed},
            )
        if new is not None:
            self.run(
                self.path("base2new", "test_new", *tail),
                new,
                eval_only=True,
                json_accuracy=new_json,
                json_fields={"subsample": "new", "seed": seed},
            )

    def stage_run(
        self,
        stage_parts,
        dataset,
        trainer,
        tag,
        seed,
        accuracy,
        eval_only,
        shots=16,
        json_accuracy=None,
    ):
        run_dir = self.path(*stage_parts, dataset, f"shots_{shots}", trainer, tag, f"seed{seed}")
        return self.run(
            run_dir,
            accuracy,
            eval_only=eval_only,
            json_accuracy=json_accuracy,
            json_fields={"seed": seed},
        )


# Base-to-new runs of two methods: {(trainer, tag): {dataset: {seed: (base, new)}}}; None marks a
# run that was not written. SEP has no eurosat runs and misses the New run of dtd seed 3.
COOP = ("CoOp", "vit_b16_ep50_ctxv1")
SEP = ("SEP", "vit_b16_ep50_ctxv1_opts-1a2b3c4d")
BASE2NEW_ACCURACIES = {
    COOP: {
        "caltech101": {1: (97.1, 93.2), 2: (96.8, 94.0), 3: (97.5, 93.5)},
        "dtd": {1: (79.4, 41.2), 2: (80.1, 45.9), 3: (78.2, 50.3)},
        "eurosat": {1: (92.0, 55.1), 2: (90.3, 60.7), 3: (91.1, 58.4)},
    },
    SEP: {
        "caltech101": {1: (98.0, 95.1), 2: (98.2, 94.8), 3: (97.9, 95.3)},
        "dtd": {1: (82.3, 60.2), 2: (81.7, 61.5), 3: (82.9, None)},
    },
}
# Runs that also write result.json, with more decimals than the log prints.
BASE2NEW_JSON = {(SEP, "caltech101", 1): (98.0437, 95.0912)}
BASE2NEW_DATASETS = ["caltech101", "dtd", "eurosat"]


def write_base2new_tree(runs):
    for method, by_dataset in BASE2NEW_ACCURACIES.items():
        for dataset, by_seed in by_dataset.items():
            for seed, (base, new) in by_seed.items():
                base_json, new_json = BASE2NEW_JSON.get((method, dataset, seed), (None, None))
                runs.base2new(
                    dataset,
                    *method,
                    seed,
                    base=base,
                    new=new,
                    base_json=base_json,
                    new_json=new_json,
                )


def expected_base2new_means():
    """{(trainer, tag): {dataset: (mean Base, mean New)}} recomputed from the data above."""
    means = {}
    for method, by_dataset in BASE2NEW_ACCURACIES.items():
        for dataset, by_seed in by_dataset.items():
            base, new = [], []
            for seed, (base_value, new_value) in by_seed.items():
                base_json, new_json = BASE2NEW_JSON.get((method, dataset, seed), (None, None))
                base.append(base_json if base_json is not None else base_value)
                if new_value is not None:
                    new.append(new_json if new_json is not None else new_value)
            means.setdefault(method, {})[dataset] = (sum(base) / len(base), sum(new) / len(new))
    return means
