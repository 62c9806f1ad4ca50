"""小名: their shapes and what they say about the formal name."""

from __future__ import annotations

import pytest

from matching.names import NicknameKind, parse_nickname
from matching.names.nicknames import YOUNGEST, nickname_sex


@pytest.mark.parametrize(
    ("text", "kind", "core"),
    [
        ("阿明", NicknameKind.PREFIXED, "明"),
        ("小红", NicknameKind.PREFIXED, "红"),
        ("老王", NicknameKind.PREFIXED, "王"),
        ("明仔", NicknameKind.SUFFIXED, "明"),
        ("狗娃", NicknameKind.SUFFIXED, "狗"),
        ("英子", NicknameKind.SUFFIXED, "英"),
        ("明儿", NicknameKind.SUFFIXED, "明"),
        ("明明", NicknameKind.REDUPLICATED, "明"),
        ("婷婷", NicknameKind.REDUPLICATED, "婷"),
        ("狗蛋", NicknameKind.HUMBLE, None),
        ("狗剩", NicknameKind.HUMBLE, None),
        ("招娣", NicknameKind.WISH, None),
        ("明", NicknameKind.SINGLE, "明"),
    ],
)
def test_nickname_shapes(text: str, kind: NicknameKind, core: str | None) -> None:
    nickname = parse_nickname(text)
    assert nickname is not None
    assert (nickname.kind, nickname.core) == (kind, core)
    assert nickname.echoes_formal_name is (core is not None)


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("老大", 1), ("阿大", 1), ("老二", 2), ("二娃", 2), ("二娃子", 2), ("老三", 3),
        ("三妹", 3), ("三丫头", 3), ("大毛", 1), ("幺妹", YOUNGEST), ("老幺", YOUNGEST),
        ("老小", YOUNGEST), ("满崽", YOUNGEST),
    ],
)  # fmt: skip
def test_birth_order_names(text: str, rank: int) -> None:
    nickname = parse_nickname(text)
    assert nickname is not None
    assert nickname.kind is NicknameKind.BIRTH_ORDER
    assert nickname.birth_rank == rank


def test_surname_address() -> None:
    for text in ("老王", "小王", "王哥", "陈仔"):
        nickname = parse_nickname(text)
        assert nickname is not None and nickname.may_be_surname, text
    for text in ("明明", "英子"):
        nickname = parse_nickname(text)
        assert nickname is not None and not nickname.may_be_surname, text


@pytest.mark.parametrize("text", ["刘建华", "李明", "欧阳修", "张晓明"])
def test_formal_names_are_not_nicknames(text: str) -> None:
    assert parse_nickname(text) is None


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("三妹", "F"), ("幺妹", "F"), ("二丫", "F"), ("妞妞", "F"), ("阿囡", "F"),
        ("招娣", "F"), ("引弟", "F"), ("狗蛋", "M"), ("铁柱", "M"), ("明哥", "M"),
        ("壮壮", "M"), ("阿明", None), ("老三", None), ("二娃", None), ("明仔", None),
        ("宝宝", None), ("明", None), ("刘建华", None),
    ],
)  # fmt: skip
def test_a_nickname_says_whose_it_is_only_where_custom_does(text: str, sex: str | None) -> None:
    assert nickname_sex(text) == sex
