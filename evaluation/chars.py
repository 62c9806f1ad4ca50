"""Which characters sound alike: a pool of common name characters indexed by toneless pinyin.

When a worker writes a name they heard, they choose a character for each sound, and they
choose common ones: a surname from the surnames they know, a given-name character from the
characters names are made of. The pool is every listed surname and given-name character
plus common characters that often stand in for them (伟/玮/炜, 丽/莉/力, 静/敬/靖, ...).
Readings come from pypinyin, with the surname readings of ``census.SURNAME_READINGS`` for
surnames (单 is "shan" as a surname, "dan" otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final

from pypinyin import Style, pinyin

from evaluation import census

# Common characters that appear in names or stand in for name characters when a worker
# writes down a sound; grouped loosely by sound so the list is easy to extend.
_EXTRA_COMMON: Final = (
    "伟玮炜苇威薇维卫为位魏韦丽莉力立利历励俐静敬境镜靖华化花话画军君均俊骏明铭鸣名"
    "芳方放仿红宏洪鸿虹弘国果郭过建健剑见坚文雯闻温稳平萍苹坪评凭英莹颖迎鹰霞夏侠峡"
    "玲铃灵凌岭龄菱燕艳彦雁延颜妍娟鹃捐梅美媒玫兰蓝岚澜秀修绣袖凤峰锋丰枫婷亭廷庭"
    "涛滔韬桃勇永咏涌泳强墙蔷斌彬宾滨鹏朋蓬彭辉慧惠晖卉杰洁捷婕节龙隆珑飞菲非霏妃"
    "东冬栋海波博柏伯泊刚钢纲岗志智治致芝亮量良梁超朝潮鑫欣新心馨昕芯宇雨玉语羽禹"
    "予浩豪昊皓好号子紫梓姿涵寒含函晗轩萱宣璇睿瑞锐蕊泽则择一依伊怡宜仪益亦艺思斯"
    "丝司琪琦奇齐祺其淇悦月跃越岳佳家嘉加晨辰臣尘诗师施石时世雅亚娅瑶遥姚尧可克科"
    "彤同童桐梦蒙孟盟雪学薛敏民珉琳林霖麟临倩茜娜纳丹单秋邱丘春纯淳金晶京经精珍真"
    "贞振祯桂贵云芸允运韵清青晴庆卿兴星幸福富付傅符甫荣容蓉融生升胜盛声德得成城诚"
    "程承宝保全泉权根跟友有佑胡湖虎护黄皇煌凰王旺望李理里礼张章彰刘流留柳吴武伍五"
    "何和河合禾贺罗洛周舟州洲许朱珠郑正政唐堂邓登曾增肖萧晓小田甜董懂潘盼袁元园源"
    "远蔡彩蒋江姜余于鱼俞森臧岑赞宗总则策层苍仓桑扫僧苏素速随岁孙所索色散三赛四松"
    "送宋才财材采菜参残灿草操粗村存寸错崔翠次词从丛聪在再早造增租足族组祖最尊左作"
    "字自资牛纽六陆路鹿卢芦努奴农弄南男难脑老劳列烈内雷泪能冷泥你女吕旅年连莲念娘"
    "良宁凝诺落暖乱论伦夫芙户花发法凡帆范环欢换房飞肥费回分芬婚魂风冯佛火活获后厚"
    "侯赵邹楚陈常长沈尚舒水春纯船穿恩门本真争仁人忍日柔如儒汝阮尹银殷用油元月扬羊"
    "妖耀也叶业夜浪郎朗乐勒楼鲁汪我沃巴白百帕排派盘判班般本比必皮波破步部普铺大达"
    "他代带台太谈坛当党道到陶德特灯腾滕地弟题体丁定停东通杜度图段团多甘干高葛耿工"
    "公宫谷古顾关管光广开凯康考肯空孔库宽匡况奎魁昆家将九久居菊七钱乔巧秦琴庆群中"
    "冲阿狗蛋剩铁栓柱招娣来引贝豆壮妞幺妹丫娃仔儿"
)


def toneless(char: str) -> str:
    """The everyday toneless reading of one character (``"lv"`` for 吕), or ``""``."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=False, errors="ignore")
    return readings[0][0] if readings and readings[0] else ""


def surname_syllables(surname: str) -> tuple[str, ...]:
    """The toneless syllables of a surname read as a surname (单 is "shan")."""
    if surname in census.SURNAME_READINGS and len(surname) == 1:
        return (census.SURNAME_READINGS[surname],)
    if len(surname) == 2:
        overrides = {
            "万俟": ("mo", "qi"), "尉迟": ("yu", "chi"), "单于": ("chan", "yu"),
            "长孙": ("zhang", "sun"), "令狐": ("ling", "hu"),
        }  # fmt: skip
        if surname in overrides:
            return overrides[surname]
    return tuple(toneless(c) for c in surname)


@dataclass(frozen=True, slots=True)
class SoundIndex:
    """Characters of the pool by their toneless syllable, for surnames and given names."""

    reading: Mapping[str, str]
    surnames_by_syllable: Mapping[str, tuple[str, ...]]
    given_by_syllable: Mapping[str, tuple[str, ...]]

    def syllable(self, char: str, *, as_surname: bool = False) -> str:
        """The toneless syllable of ``char`` (as a surname when ``as_surname``)."""
        if as_surname and char in census.SURNAME_READINGS:
            return census.SURNAME_READINGS[char]
        return self.reading.get(char) or toneless(char)

    def sounding(self, syllable: str, *, as_surname: bool) -> tuple[str, ...]:
        """Pool characters read as ``syllable``; surnames first when ``as_surname``."""
        if as_surname:
            return self.surnames_by_syllable.get(syllable, ()) or self.given_by_syllable.get(
                syllable, ()
            )
        return self.given_by_syllable.get(syllable, ()) or self.surnames_by_syllable.get(
            syllable, ()
        )

    def is_syllable(self, syllable: str) -> bool:
        """Whether any pool character is read as ``syllable``."""
        return syllable in self.given_by_syllable or syllable in self.surnames_by_syllable


@cache
def sound_index() -> SoundIndex:
    """The index of the whole pool (built once; a few milliseconds)."""
    single_surnames = [s for s, _ in census.SURNAME_SHARES if len(s) == 1]
    given: dict[str, None] = {}
    for chars in census.GIVEN_NAME_CHARS.values():
        given.update(dict.fromkeys(chars))
    given.update(dict.fromkeys(_EXTRA_COMMON))
    reading = {c: toneless(c) for c in dict.fromkeys([*single_surnames, *given])}
    by_surname: dict[str, list[str]] = {}
    for s in single_surnames:
        syl = census.SURNAME_READINGS.get(s) or reading[s]
        by_surname.setdefault(syl, []).append(s)
    by_given: dict[str, list[str]] = {}
    for c in given:
        if reading[c]:
            by_given.setdefault(reading[c], []).append(c)
    return SoundIndex(
        reading=MappingProxyType(reading),
        surnames_by_syllable=MappingProxyType({k: tuple(v) for k, v in by_surname.items()}),
        given_by_syllable=MappingProxyType({k: tuple(v) for k, v in by_given.items()}),
    )
