"""Configs: presets, `--set` string parsing, error messages, bounds, round trips."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Literal

import pytest

from implicitbias.config import Config, param, parse_value
from implicitbias.errors import ConfigError, closest
from implicitbias.experiments.min_norm import MinNormConfig
from implicitbias.experiments.registry import experiments as list_experiments
from implicitbias.optim.spec import OptimizerSpec, parse_list


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    """A config with the field kinds MinNormConfig lacks (tuples, an int Literal)."""

    widths: tuple[int, ...] = param((1, 2), "layer widths", low=1)
    rates: tuple[float, ...] = param((0.1,), "step sizes", low=0, low_open=True)
    fraction: float = param(0.5, "a fraction", low=0, high=1)
    mode: Literal["fast", "slow"] = param("fast", "a mode")
    level: Literal[1, 2] = param(1, "an integer level")
    label: str = param("x", "a free string")
    maybe: int | None = param(None, "an optional count", low=0)

    PRESETS = {"wide": {"widths": (8, 8, 8)}}


# ------------------------------------------------------------------ presets


def test_make_default_is_the_dataclass_defaults():
    assert MinNormConfig.make() == MinNormConfig()
    assert MinNormConfig.make("default") == MinNormConfig()


@pytest.mark.parametrize("preset", ["smoke", "large", "seed"])
def test_make_applies_each_preset_and_only_its_changes(preset):
    cfg = MinNormConfig.make(preset)
    changes = MinNormConfig.PRESETS[preset]
    assert changes  # these presets change something
    for f in dataclasses.fields(MinNormConfig):
        expected = changes.get(f.name, f.default)
        assert getattr(cfg, f.name) == expected, f.name


def test_presets_lists_default_first_or_as_declared():
    assert MinNormConfig.presets() == ["smoke", "default", "large", "seed"]
    assert ToyConfig.presets() == ["default", "wide"]
    assert ToyConfig.make("wide").widths == (8, 8, 8)


def test_overrides_apply_on_top_of_the_preset():
    cfg = MinNormConfig.make("smoke", {"steps": "123", "n": 4})
    assert (cfg.steps, cfg.n, cfg.p) == (123, 4, 12)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("7", 7),
        ("1e3", 1000),
        ("1_000", 1000),
        (" 12 ", 12),
        (5, 5),
        (3.0, 3),
        ("-0", 0),
    ],
)
def test_parse_int(raw, expected):
    value = parse_value("steps", int, raw)
    assert value == expected and type(value) is int


def test_make_parses_int_strings():
    assert MinNormConfig.make("smoke", {"steps": "1e3"}).steps == 1000
    assert MinNormConfig.make("smoke", {"sgd_steps": "2_500"}).sgd_steps == 2500


@pytest.mark.parametrize("raw", ["2.5", "abc", "", True, 2.5, None, "1e400"])
def test_parse_int_rejects(raw):
    with pytest.raises(ConfigError):
        parse_value("steps", int, raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0.25", 0.25),
        ("1e-3", 1e-3),
        ("3", 3.0),
        (2, 2.0),
        ("-1.5", -1.5),
    ],
)
def test_parse_float(raw, expected):
    value = parse_value("x", float, raw)
    assert value == expected and type(value) is float


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "abc", True, None, [1.0]])
def test_parse_float_rejects(raw):
    with pytest.raises(ConfigError):
        parse_value("x", float, raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        (True, True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
        (False, False),
    ],
)
def test_parse_bool(raw, expected):
    assert MinNormConfig.make("smoke", {"sgd": raw}).sgd is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 1, 0, None])
def test_parse_bool_rejects(raw):
    with pytest.raises(ConfigError, match=r"^`sgd`: expected a boolean"):
        MinNormConfig.make("smoke", {"sgd": raw})


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("none", None),
        ("None", None),
        ("null", None),
        (None, None),
        ("0.5", 0.5),
        (0.25, 0.25),
    ],
)
def test_parse_optional_float(raw, expected):
    assert MinNormConfig.make("smoke", {"learning_rate": raw}).learning_rate == expected


def test_parse_optional_rejects_with_both_options_named():
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", {"learning_rate": "fast"})
    assert str(err.value) == "`learning_rate`: expected float or none, got 'fast'."


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("4,5,6", (4, 5, 6)),
        ("4, 5 ,6", (4, 5, 6)),
        ("[7,8]", (7, 8)),
        ("9", (9,)),
        ([1, 2.0], (1, 2)),
        ((3, 4), (3, 4)),
        ("", ()),
    ],
)
def test_parse_int_tuple(raw, expected):
    value = ToyConfig.make("default", {"widths": raw}).widths
    assert value == expected
    assert all(type(v) is int for v in value)


def test_parse_float_tuple_and_item_errors():
    assert ToyConfig.make("default", {"rates": "0.5,1e-3"}).rates == (0.5, 1e-3)
    with pytest.raises(ConfigError, match=r"^`rates`: expected a number, got 'x'\.$"):
        ToyConfig.make("default", {"rates": "0.5,x"})
    with pytest.raises(ConfigError, match=r"^`widths`: expected comma-separated list of int"):
        ToyConfig.make("default", {"widths": 3})


def test_parse_string_literal():
    assert MinNormConfig.make("smoke", {"spacing": "linear"}).spacing == "linear"
    assert ToyConfig.make("default", {"mode": "slow"}).mode == "slow"
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", {"spacing": "lin"})
    assert str(err.value) == (
        "`spacing`: expected one of 'log', 'linear', got 'lin'. Did you mean `linear`?"
    )


def test_int_literal_from_a_json_value():
    assert ToyConfig.make("default", {"level": 2}).level == 2


def test_int_literal_from_a_string():
    assert ToyConfig.make("default", {"level": "2"}).level == 2


def test_str_field_keeps_none_as_a_string():
    assert ToyConfig.make("default", {"label": "none"}).label == "none"
    assert ToyConfig.make("default", {"maybe": "none"}).maybe is None
    assert ToyConfig.make("default", {"maybe": "3"}).maybe == 3


# ------------------------------------------------------------------ error messages


def test_unknown_key_suggests_the_closest_field():
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", {"setps": 3})
    message = str(err.value)
    assert "Did you mean `steps`?" in message
    assert "'setps'" in message and "MinNormConfig" in message
    assert err.value.param == "--set key"


@pytest.mark.parametrize(
    "typo, field",
    [
        ("learningrate", "learning_rate"),
        ("num_init", "num_inits"),
        ("sgd_step", "sgd_steps"),
        ("nul_scale", "null_scale"),
    ],
)
def test_unknown_key_suggestions(typo, field):
    with pytest.raises(ConfigError, match=f"Did you mean `{field}`"):
        MinNormConfig.make("default", {typo: 1})


def test_unrelated_unknown_key_gets_no_suggestion():
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("default", {"zzzzqqqq": 1})
    assert "Did you mean" not in str(err.value)


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smok")
    assert str(err.value) == (
        "`preset`: expected one of smoke, default, large, seed, got 'smok'. Did you mean `smoke`?"
    )
    assert err.value.param == "preset"


def test_bad_value_names_the_parameter_what_is_allowed_and_what_was_given():
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", {"steps": "abc"})
    assert (err.value.param, err.value.allowed, err.value.given) == ("steps", "an integer", "abc")
    assert str(err.value) == "`steps`: expected an integer, got 'abc'."


def test_closest_uses_a_cutoff():
    assert closest("setps", ["steps", "seed"]) == "steps"
    assert closest("q", ["steps", "seed"]) is None


# ------------------------------------------------------------------ bounds and validation


def test_n_not_below_p_is_rejected_naming_n():
    for n in (12, 13):
        with pytest.raises(ConfigError) as err:
            MinNormConfig.make("smoke", {"n": n})
        assert err.value.param == "n"
        assert str(err.value).startswith("`n`: expected an integer < p (= 12)")
        assert str(err.value).endswith(f"got {n}.")
    assert MinNormConfig.make("smoke", {"n": 11}).n == 11


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("steps", 0, "a number >= 1 and <= 1000000000"),
        ("steps", -5, "a number >= 1 and <= 1000000000"),
        ("steps", 10**12, "a number <= 1000000000"),
        ("learning_rate", -1, "a number > 0"),
        ("learning_rate", 0, "a number > 0"),
        ("init_scale", 0.0, "a number > 0"),
        ("seed", -1, "a number >= 0 and <= 4294967295"),
        ("num_logs", 1, "a number >= 2 and <= 1000000"),
        ("num_logs", 10**9, "a number <= 1000000"),
        ("ridge_points", 1, "a number >= 2 and <= 1000000000"),
    ],
)
def test_bounds(field, value, allowed):
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", {field: value})
    assert err.value.param == field
    assert err.value.allowed == allowed


def test_bounds_accept_the_edges():
    cfg = MinNormConfig.make(
        "smoke", {"steps": 1, "seed": 0, "num_logs": 2, "num_inits": 0, "learning_rate": 1e-300}
    )
    assert (cfg.steps, cfg.seed, cfg.num_logs, cfg.num_inits) == (1, 0, 2, 0)


def test_bounds_apply_to_every_tuple_item_and_upper_bounds():
    with pytest.raises(
        ConfigError, match=r"^`widths`: expected a number >= 1 and <= 1000000000, got \(3, 0\)"
    ):
        ToyConfig.make("default", {"widths": "3,0"})
    with pytest.raises(ConfigError, match=r"^`fraction`: expected a number <= 1, got 1\.5"):
        ToyConfig.make("default", {"fraction": 1.5})
    with pytest.raises(ConfigError, match=r"expected a number >= 0 and <= 1"):
        ToyConfig.make("default", {"fraction": -0.5})
    assert ToyConfig.make("default", {"fraction": 1}).fraction == 1.0


@pytest.mark.parametrize(
    "overrides, param_name",
    [
        ({"optimizer": "gdd"}, "optimizer"),
        ({"sgd_batch_size": 6}, "sgd_batch_size"),
        ({"ridge_min": 1e3}, "ridge_min"),
    ],
)
def test_cross_field_validation(overrides, param_name):
    with pytest.raises(ConfigError) as err:
        MinNormConfig.make("smoke", overrides)
    assert err.value.param == param_name


def test_optimizer_typo_suggests_a_name():
    with pytest.raises(ConfigError, match=r"Did you mean `gd`\?"):
        MinNormConfig.make("smoke", {"optimizer": "gdd"})


def test_replace_validates():
    cfg = MinNormConfig.make("smoke")
    assert cfg.replace(steps=7).steps == 7
    with pytest.raises(ConfigError):
        cfg.replace(steps=0)
    with pytest.raises(ConfigError):
        cfg.replace(n=cfg.p)


def test_replace_rejects_nan():
    with pytest.raises(ConfigError):
        MinNormConfig.make("smoke").replace(learning_rate=math.nan)


# ------------------------------------------------------------------ export


@pytest.mark.parametrize("preset", ["smoke", "default", "large", "seed"])
def test_to_dict_from_values_round_trip(preset):
    cfg = MinNormConfig.make(preset, {"learning_rate": 0.03, "spacing": "linear"})
    data = cfg.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(MinNormConfig)}
    assert MinNormConfig.from_values(data) == cfg
    # Through JSON too, as config.json stores it.
    assert MinNormConfig.from_values(json.loads(json.dumps(data))) == cfg


def test_to_dict_round_trip_with_tuples():
    cfg = ToyConfig.make("wide", {"rates": "0.5,0.25", "maybe": 4})
    data = json.loads(json.dumps(cfg.to_dict()))
    assert data["widths"] == [8, 8, 8]
    assert ToyConfig.from_values(data) == cfg


@pytest.mark.parametrize(
    "cls",
    [ToyConfig, *(e.config_cls for e in list_experiments().values())],
    ids=lambda c: c.__name__,
)
def test_describe_covers_every_field_with_a_doc(cls):
    rows = cls.describe()
    assert [r[0] for r in rows] == [f.name for f in dataclasses.fields(cls)]
    for name, type_name, default, doc in rows:
        assert doc.strip(), name
        assert type_name.strip(), name
        value = getattr(cls(), name)
        if isinstance(value, OptimizerSpec):  # shown as written on the command line
            assert default == str(value) and OptimizerSpec.parse(default) == value
        elif isinstance(value, tuple) and value and isinstance(value[0], OptimizerSpec):
            assert parse_list(default, name) == value
        else:
            assert default == repr(value)


def test_describe_type_names():
    rows = {r[0]: r[1] for r in ToyConfig.describe()}
    assert rows["widths"] == "comma-separated list of int"
    assert rows["mode"] == "'fast' | 'slow'"
    assert rows["maybe"] == "int or none"
    assert rows["x64"] == "bool"
