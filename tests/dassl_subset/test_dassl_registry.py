import pytest
from dassl.utils import Registry


def test_decorator_registers_under_class_name_and_returns_class():
    registry = Registry("THING")

    @registry.register()
    class Alpha:
        pass

    assert registry.get("Alpha") is Alpha
    assert registry.registered_names() == ["Alpha"]


def test_duplicate_name_is_rejected_unless_forced():
    registry = Registry("THING")

    class Alpha:
        pass

    registry.register(Alpha)
    with pytest.raises(KeyError, match="already registered"):
        registry.register(Alpha)
    registry.register(Alpha, force=True)
    assert registry.get("Alpha") is Alpha


def test_unknown_name_error_lists_available_names_and_suggests_closest():
    registry = Registry("TRAINER")
    for name in ("CoOp", "CoCoOp", "KgCoOp"):
        registry.register(type(name, (), {}))
    with pytest.raises(KeyError) as error:
        registry.get("KgCoop")
    message = error.value.args[0]
    assert "'CoOp', 'CoCoOp', 'KgCoOp'" in message
    assert 'do you mean "KgCoOp"' in message
