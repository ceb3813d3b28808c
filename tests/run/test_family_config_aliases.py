"""The CoOp family's own trainer configs load as their authors wrote them.

family_trainer_configs.json holds, as facts (keys and values), every trainer yaml of the
authors' repositories for the methods this project implements: CoOp and CoCoOp
(KaiyangZhou/CoOp), KgCoOp (htyao89/KgCoOp), MaPLe and IVLP
(muzairkhattak/multimodal-prompt-learning), PromptSRC (muzairkhattak/PromptSRC) and SEP
(htyao89/SEP), with the copies each repository carries of the others' files. Not included: their
ProGrad and VPT configs (methods this project does not implement).

Every file loads, except the ones listed in CANNOT_LOAD with the reason.
"""

import ast
import json
import os

import pytest
import yaml

from run import config_aliases
from run.config import project_cfg_default
from run.config_aliases import Alias
from run.config_merge import merge_config_file, merge_options
from run.user_errors import ConfigError
from trainers import TRAINERS

FACTS = os.path.join(os.path.dirname(__file__), "family_trainer_configs.json")
with open(FACTS) as facts_file:
    FAMILY_CONFIGS = json.load(facts_file)

# KgCoOp's copy of CoCoOp reads CTX_INIT True as the dataset's own hand-written template
# (a different phrase per dataset); this project's CoCoOp takes the phrase itself, so these
# files are refused with a message saying to write it.
CANNOT_LOAD = {
    file: r"TRAINER.COCOOP.CTX_INIT: True\" names no phrase.*write the phrase itself"
    for repo in ("htyao89/KgCoOp:KgCoOp", "htyao89/SEP:SEP_main")
    for file in (
        f"{repo}/configs/trainers/CoCoOp/rn50_c4_ep10_batch1_ctxv1.yaml",
        f"{repo}/configs/trainers/CoCoOp/rn50_ep100_init.yaml",
        f"{repo}/configs/trainers/CoCoOp/rn50_ep50.yaml",
    )
}

# The family's keys read as this project's, written out independently of run/config_aliases.py:
# (trainer, family key, family value) -> (our key, our value).
ALIASED = {
    ("KgCoOp", "TRAINER.COOP.CTX_INIT", True): ("TRAINER.KGCOOP.CTX_INIT", "a photo of a"),
    ("KgCoOp", "TRAINER.COOP.CTX_INIT", False): ("TRAINER.KGCOOP.CTX_INIT", ""),
    ("SEP", "TRAINER.COOP.CTX_INIT", False): ("TRAINER.SEP.CTX_INIT", ""),
}


def aliased(trainer, key, value):
    """(our key, our value) for a family key, or None where the key is ours already."""
    return None if isinstance(value, list) else ALIASED.get((trainer, key, value))


def decoded(value):
    """A yaml value as a config holds it: strings such as "(224, 224)" or "1e-5" are Python
    literals, lists are compared as tuples."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return tuple(value) if isinstance(value, list) else value


def config_value(cfg, key):
    for name in key.split("."):
        cfg = cfg[name]
    return tuple(cfg) if isinstance(cfg, list) else cfg


def write_yaml(path, values):
    nested = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        section = nested
        for name in parents:
            section = section.setdefault(name, {})
        section[leaf] = value
    path.write_text(yaml.safe_dump(nested))
    return str(path)


def loadable():
    return [
        pytest.param(entry, id=entry["files"][0])
        for entry in FAMILY_CONFIGS
        if not any(file in CANNOT_LOAD for file in entry["files"])
    ]


def test_the_facts_cover_every_implemented_method_and_every_refusal_is_a_listed_file():
    trainers = {entry["trainer"] for entry in FAMILY_CONFIGS}
    assert trainers == {"CoOp", "CoCoOp", "KgCoOp", "MaPLe", "IVLP", "PromptSRC", "SEP"}
    files = {file for entry in FAMILY_CONFIGS for file in entry["files"]}
    assert set(CANNOT_LOAD) <= files


@pytest.mark.parametrize("entry", loadable())
def test_authors_trainer_config_loads_with_every_value(entry, tmp_path):
    cfg = project_cfg_default()
    notes = []
    merge_config_file(
        cfg, write_yaml(tmp_path / "family.yaml", entry["values"]), entry["trainer"], notes
    )
    for key, value in entry["values"].items():
        our_key, our_value = aliased(entry["trainer"], key, value) or (key, decoded(value))
        loaded = config_value(cfg, our_key)
        assert loaded == our_value, key
        if isinstance(config_value(project_cfg_default(), our_key), float):
            assert type(loaded) is float, f"{key}: an int is widened, not kept as int"
    family_keys = [
        key for key, value in entry["values"].items() if aliased(entry["trainer"], key, value)
    ]
    assert len(notes) == len(family_keys)
    assert all(any(key in note for note in notes) for key in family_keys)


@pytest.mark.parametrize("file", sorted(CANNOT_LOAD))
def test_authors_config_that_cannot_load_is_refused_with_its_reason(file, tmp_path):
    entry = next(entry for entry in FAMILY_CONFIGS if file in entry["files"])
    with pytest.raises(ConfigError, match=CANNOT_LOAD[file]):
        merge_config_file(
            project_cfg_default(),
            write_yaml(tmp_path / "family.yaml", entry["values"]),
            entry["trainer"],
        )


def test_promptsrc_ints_for_floats_load_in_a_file_and_on_the_command_line(tmp_path):
    cfg = project_cfg_default()
    config = write_yaml(tmp_path / "p.yaml", {"TRAINER.PROMPTSRC.TEXT_LOSS_WEIGHT": 25})
    merge_config_file(cfg, config, "PromptSRC")
    merge_options(cfg, ["TRAINER.PROMPTSRC.GPA_MEAN", "1"], "PromptSRC")
    assert cfg.TRAINER.PROMPTSRC.TEXT_LOSS_WEIGHT == 25.0
    assert cfg.TRAINER.PROMPTSRC.GPA_MEAN == 1.0
    assert type(cfg.TRAINER.PROMPTSRC.GPA_MEAN) is float


def test_a_float_for_an_int_is_refused_in_a_file(tmp_path):
    config = write_yaml(tmp_path / "p.yaml", {"TRAINER.MAPLE.N_CTX": 2.5})
    with pytest.raises(ConfigError, match=r"N_CTX\" in config file .*expected int, got float"):
        merge_config_file(project_cfg_default(), config, "MaPLe")


def test_kgcoop_script_options_set_our_kgcoop_keys_with_a_note_each():
    cfg = project_cfg_default()
    notes = []
    options = ["TRAINER.COOP.N_CTX", "4", "TRAINER.COOP.CSC", "False", "TRAINER.COOP.W", "2.5"]
    options += ["TRAINER.COOP.CLASS_TOKEN_POSITION", "end"]
    merge_options(cfg, options, "KgCoOp", notes)
    assert cfg.TRAINER.KGCOOP.W == 2.5
    assert cfg.TRAINER.KGCOOP.N_CTX == 4
    assert cfg.TRAINER.COOP == project_cfg_default().TRAINER.COOP  # CoOp's own node untouched
    assert len(notes) == 4 and all("(KgCoOp's alias)" in note for note in notes)
    assert "TRAINER.COOP.W 2.5 read as TRAINER.KGCOOP.W" in notes[2]


def test_kgcoop_weight_under_coop_is_still_unknown_for_coop_itself():
    with pytest.raises(ConfigError, match=r'Unknown config key "TRAINER.COOP.W"'):
        merge_options(project_cfg_default(), ["TRAINER.COOP.W", "8.0"], "CoOp")


def test_sep_authors_script_options_map_to_the_sep_node():
    cfg = project_cfg_default()
    notes = []
    options = ["TRAINER.COOP.N_CTX", "6", "TRAINER.COOP.N_CTX_V", "4", "TRAINER.COOP.W", "8.0"]
    options += ["TRAINER.COOP.W_V", "6.0", "TRAINER.COOP.L_IND", "5", "TRAINER.COOP.CSC", "False"]
    merge_options(cfg, options, "SEP", notes)
    sep = cfg.TRAINER.SEP
    assert (sep.N_CTX_TEXT, sep.N_CTX_VISION, sep.W_TEXT, sep.W_VISUAL) == (6, 4, 8.0, 6.0)
    assert tuple(sep.FUSION_LAYERS) == (3, 6, 9)  # entry 5 of the authors' layer table
    assert any("TRAINER.COOP.CSC False ignored" in note for note in notes)


@pytest.mark.parametrize(
    "options, message",
    [
        (["TRAINER.COOP.CSC", "True"], r"SEP has no class-specific context"),
        (["TRAINER.COOP.CLASS_TOKEN_POSITION", "middle"], r"only 'end' is supported"),
        (["TRAINER.COOP.L_IND", "99"], r"not an index of SEP's layer table \(0\.\.19\)"),
    ],
)
def test_sep_aliases_without_a_faithful_meaning_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        merge_options(project_cfg_default(), options, "SEP")


def ctx_init_nodes():
    """Every trainer whose config node takes a CTX_INIT phrase, as (trainer, node name)."""
    return [
        pytest.param(trainer.__name__, trainer.METHOD_CFG, id=trainer.__name__)
        for trainer in TRAINERS
        if isinstance(trainer.config_node().get("CTX_INIT"), str)
    ]


@pytest.mark.parametrize("trainer, node", ctx_init_nodes())
def test_every_ctx_init_phrase_reads_false_as_random_context_and_refuses_true(trainer, node):
    key = f"TRAINER.{node}.CTX_INIT"
    cfg = project_cfg_default()
    notes = []
    merge_options(cfg, [key, "False"], trainer, notes)
    assert cfg.TRAINER[node].CTX_INIT == ""
    assert notes == [f'{key} False read as {key} "" (random context) (on the command line)']
    with pytest.raises(ConfigError, match=rf'"{key}: True" names no phrase'):
        merge_options(project_cfg_default(), [key, "True"], trainer)


def test_a_boolean_for_another_phrase_is_a_type_error_not_a_ctx_init():
    with pytest.raises(ConfigError, match=r"TEMPLATES\" on the command line: expected str"):
        merge_options(project_cfg_default(), ["TRAINER.SEP.TEMPLATES", "False"], "SEP")


def test_a_trainers_registered_table_is_read_for_that_trainer_only(monkeypatch):
    monkeypatch.setattr(config_aliases, "FAMILY_ALIASES", dict(config_aliases.FAMILY_ALIASES))
    table = {"TRAINER.COOP.W": Alias("TRAINER.KGCOOP.W")}
    config_aliases.register_family_aliases("NewMethod", table)
    cfg = project_cfg_default()
    notes = []
    merge_options(cfg, ["TRAINER.COOP.W", "3"], "NewMethod", notes)
    assert cfg.TRAINER.KGCOOP.W == 3.0
    assert notes == [
        "TRAINER.COOP.W 3 read as TRAINER.KGCOOP.W (NewMethod's alias) (on the command line)"
    ]
    with pytest.raises(ConfigError, match=r'Unknown config key "TRAINER.COOP.W"'):
        merge_options(project_cfg_default(), ["TRAINER.COOP.W", "3"], "CoOp")
    with pytest.raises(ValueError, match="Two family config alias tables registered for KgCoOp"):
        config_aliases.register_family_aliases("KgCoOp", table)
