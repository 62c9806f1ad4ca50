"""Shared fixtures for the name tests: a seeded generator of realistic-looking names."""

from __future__ import annotations

import random

import pytest

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林郑梁谢宋付牛单曾覃翟乐区")
COMPOUNDS = ["欧阳", "诸葛", "尉迟", "司马", "上官"]
GIVEN = list("建华明敏红宏伟玮丽莉兴星江贵奎军英秀文翁生能伦芳峰林宁凌荣龙春")
# Characters a station may write for one another: dialect and near-sound partners.
PARTNERS = {
    "刘": "牛", "牛": "刘", "黄": "王", "王": "黄", "胡": "付", "付": "胡", "陈": "程",
    "林": "宁", "张": "臧", "贵": "奎", "荣": "龙", "明": "敏", "兴": "新", "华": "花",
}  # fmt: skip
PINYIN = {
    "王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "黄": "huang",
    "建": "jian", "华": "hua", "明": "ming", "红": "hong", "伟": "wei", "军": "jun",
    "英": "ying", "秀": "xiu", "文": "wen", "林": "lin",
}  # fmt: skip


def _formal(rng: random.Random) -> str:
    surname = rng.choice(COMPOUNDS) if rng.random() < 0.05 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def _variant(rng: random.Random, name: str) -> str:
    """The same person's name as another station may have written it."""
    roll = rng.random()
    if roll < 0.25:
        return "".join(PARTNERS.get(c, c) if rng.random() < 0.5 else c for c in name)
    if roll < 0.35:
        return "阿" + name[-1]
    if roll < 0.42:
        return name[-1] * 2
    if roll < 0.50:
        return name[1:]
    if roll < 0.58 and len(name) >= 3:
        cut = rng.randrange(len(name))
        return name[:cut] + name[cut + 1 :]
    if roll < 0.66 and all(c in PINYIN for c in name):
        surname, given = PINYIN[name[0]], "".join(PINYIN[c] for c in name[1:])
        return rng.choice((f"{surname} {given}", f"{given} {surname}", (surname + given).upper()))
    if roll < 0.70:
        return name[0] + "某"
    if roll < 0.74:
        return rng.choice(("老三", "二娃", "幺妹", "老二", "狗蛋"))
    return name


def generate_records(seed: int, count: int) -> list[list[str]]:
    """Records of one to three names, many of them variants of one another."""
    rng = random.Random(seed)
    people = [_formal(rng) for _ in range(count // 3)]
    records: list[list[str]] = []
    for _ in range(count):
        person = rng.choice(people)
        names = [_variant(rng, person)]
        if rng.random() < 0.15:
            names.append(_variant(rng, person))
        records.append(names)
    return records


@pytest.fixture(scope="session")
def generated_records() -> list[list[str]]:
    """Three thousand generated records, the same on every run."""
    return generate_records(seed=4, count=3000)
