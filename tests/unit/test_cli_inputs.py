"""``lodeline.cli.inputs``: the one reader of the files a command is given. Each bound is tested at its edge (the
last accepted value and the first refused one), and each refusal is an InvalidArgumentError naming the file and
the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from lodeline.cli import inputs
from lodeline.cli.inputs import MAX_DEPTH, MAX_INT_DIGITS, read_bytes, read_json, read_yaml
from lodeline.errors import InvalidArgumentError


def _file(tmp_path: Path, content: bytes | str, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _refused(call: object, path: Path, reason: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call(path)  # type: ignore[operator]
    assert info.value.message.startswith(str(path)), info.value.message
    assert reason in info.value.message, info.value.message
    assert len(info.value.message) < len(str(path)) + 500


@pytest.mark.parametrize("reader", [read_json, read_yaml])
def test_nesting_is_bounded_at_max_depth(tmp_path: Path, reader: object) -> None:
    assert MAX_DEPTH == 64
    # 64 nested lists hold the 1 at depth 64: accepted, and it is the value written
    value = reader(_file(tmp_path, "[" * 64 + "1" + "]" * 64))  # type: ignore[operator]
    for _ in range(63):
        value = value[0]
    assert value == [1]
    _refused(reader, _file(tmp_path, "[" * 65 + "1" + "]" * 65), "nested deeper than 64 levels")
    # far past the interpreter's recursion limit: the parser's RecursionError becomes the same refusal
    _refused(reader, _file(tmp_path, "[" * 100_000 + "]" * 100_000), "nested deeper than 64 levels")
    _refused(reader, _file(tmp_path, '{"a":' * 3_000 + "1" + "}" * 3_000), "nested deeper than 64 levels")


@pytest.mark.parametrize("reader", [read_json, read_yaml])
def test_integer_literals_are_bounded(tmp_path: Path, reader: object) -> None:
    assert MAX_INT_DIGITS == 64
    assert reader(_file(tmp_path, "[" + "9" * 64 + "]")) == [10**64 - 1]  # type: ignore[operator]
    assert reader(_file(tmp_path, "[-" + "9" * 64 + "]")) == [-(10**64 - 1)]  # type: ignore[operator]
    _refused(
        reader, _file(tmp_path, "[" + "9" * 65 + "]"), "an integer of 65 digits (at most 64 are allowed)"
    )
    # past Python's own 4300-digit conversion limit: the same named refusal, not Python's ValueError
    _refused(reader, _file(tmp_path, "9" * 5_000), "an integer of 5000 digits")


def test_json_numbers_must_be_finite(tmp_path: Path) -> None:
    assert read_json(_file(tmp_path, '{"x": 1.5e308}')) == {"x": 1.5e308}
    _refused(read_json, _file(tmp_path, '{"x": 1e309}'), "the number 1e309 is too large")
    _refused(read_json, _file(tmp_path, '{"x": NaN}'), "NaN is not a JSON number")
    _refused(read_json, _file(tmp_path, '{"x": -Infinity}'), "-Infinity is not a JSON number")


def test_yaml_alias_expansion_is_bounded(tmp_path: Path) -> None:
    # 9 levels, each a list of 9 aliases of the level below: 9 + 9^2 + … + 9^9 ≈ 4.3e8 values once expanded
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    _refused(read_yaml, _file(tmp_path, "\n".join(lines), "bomb.yaml"), "more than 1,000,000 values")
    # a small file with aliases is read as plain data, the aliases resolved
    small = read_yaml(_file(tmp_path, "a: &a [1, 2]\nb: [*a, *a]\n", "small.yaml"))
    assert small == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


def test_yaml_is_plain_data_only(tmp_path: Path) -> None:
    _refused(
        read_yaml,
        _file(tmp_path, "!!python/object/apply:os.system ['echo pwned']\n", "x.yaml"),
        "not valid YAML: could not determine a constructor",
    )


def test_size_is_bounded(tmp_path: Path) -> None:
    assert inputs.MAX_FILE_BYTES == 64 * 1024 * 1024
    path = _file(tmp_path, b"x" * 10)
    assert read_bytes(path, limit=10) == b"x" * 10
    _refused(lambda p: read_bytes(p, limit=9), path, "larger than 9 bytes")


def test_unreadable_files_name_the_reason(tmp_path: Path) -> None:
    _refused(read_json, tmp_path / "missing.json", "No such file or directory")
    _refused(read_json, tmp_path, "Is a directory")
    _refused(read_json, _file(tmp_path, b"\xff\xfe{}"), "not UTF-8")
    _refused(read_json, tmp_path / ("é" * 5_000), "File name too long")
    assert not inputs.is_file(tmp_path / ("é" * 5_000)) and not inputs.is_file(Path("a\x00b"))
    with pytest.raises(InvalidArgumentError, match="the file name is not valid"):
        read_bytes(Path("a\x00b"))
