"""Where a speaker is from, read out of an accent note or a hometown fragment.

Stations note the accent they hear (口音 is a first-class attribute of a notice):
"四川口音", "川音", "东北口音", "说闽南话", "湖南长沙人". :func:`regions_from_text`
turns such text into province names, the unit the dialect rules are stated in. Vague
text ("大山里", "普通话", "外地口音") gives the empty set.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import opencc


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level division: its short name is the one used everywhere else."""

    name: str
    full_name: str
    english: str
    abbreviations: tuple[str, ...]
    """One-character abbreviations (川, 蜀); read only where the context makes them safe."""


PROVINCES: tuple[Province, ...] = (
    Province("北京", "北京市", "Beijing", ("京",)),
    Province("天津", "天津市", "Tianjin", ("津",)),
    Province("河北", "河北省", "Hebei", ("冀",)),
    Province("山西", "山西省", "Shanxi", ("晋",)),
    Province("内蒙古", "内蒙古自治区", "Inner Mongolia", ("蒙",)),
    Province("辽宁", "辽宁省", "Liaoning", ("辽",)),
    Province("吉林", "吉林省", "Jilin", ("吉",)),
    Province("黑龙江", "黑龙江省", "Heilongjiang", ("黑",)),
    Province("上海", "上海市", "Shanghai", ("沪", "申")),
    Province("江苏", "江苏省", "Jiangsu", ("苏",)),
    Province("浙江", "浙江省", "Zhejiang", ("浙",)),
    Province("安徽", "安徽省", "Anhui", ("皖",)),
    Province("福建", "福建省", "Fujian", ("闽",)),
    Province("江西", "江西省", "Jiangxi", ("赣",)),
    Province("山东", "山东省", "Shandong", ("鲁",)),
    Province("河南", "河南省", "Henan", ("豫",)),
    Province("湖北", "湖北省", "Hubei", ("鄂",)),
    Province("湖南", "湖南省", "Hunan", ("湘",)),
    Province("广东", "广东省", "Guangdong", ("粤",)),
    Province("广西", "广西壮族自治区", "Guangxi", ("桂",)),
    Province("海南", "海南省", "Hainan", ("琼",)),
    Province("重庆", "重庆市", "Chongqing", ("渝",)),
    Province("四川", "四川省", "Sichuan", ("川", "蜀")),
    Province("贵州", "贵州省", "Guizhou", ("黔", "贵")),
    Province("云南", "云南省", "Yunnan", ("滇", "云")),
    Province("西藏", "西藏自治区", "Tibet", ("藏",)),
    Province("陕西", "陕西省", "Shaanxi", ("陕", "秦")),
    Province("甘肃", "甘肃省", "Gansu", ("甘", "陇")),
    Province("青海", "青海省", "Qinghai", ("青",)),
    Province("宁夏", "宁夏回族自治区", "Ningxia", ("宁",)),
    Province("新疆", "新疆维吾尔自治区", "Xinjiang", ("新",)),
    Province("台湾", "台湾省", "Taiwan", ("台",)),
    Province("香港", "香港特别行政区", "Hong Kong", ("港",)),
    Province("澳门", "澳门特别行政区", "Macau", ("澳",)),
)
"""The 34 province-level divisions."""

PROVINCE_NAMES: frozenset[str] = frozenset(p.name for p in PROVINCES)

_NORTHEAST = ("黑龙江", "吉林", "辽宁")
_SOUTH = (
    "江苏", "浙江", "上海", "安徽", "福建", "江西", "湖北", "湖南", "广东", "广西", "海南",
    "四川", "重庆", "贵州", "云南",
)  # fmt: skip
_NORTH = (
    "北京", "天津", "河北", "山西", "内蒙古", "山东", "河南", "陕西", "甘肃", "宁夏",
    *_NORTHEAST,
)  # fmt: skip

AREAS: Mapping[str, tuple[str, ...]] = {
    # Broad regions.
    "东北": _NORTHEAST, "关外": _NORTHEAST, "华北": ("北京", "天津", "河北", "山西", "内蒙古"),
    "西北": ("陕西", "甘肃", "青海", "宁夏", "新疆"), "西南": ("四川", "重庆", "贵州", "云南"),
    "南方": _SOUTH, "北方": _NORTH, "江浙沪": ("江苏", "浙江", "上海"),
    "江浙": ("江苏", "浙江"), "川渝": ("四川", "重庆"), "两广": ("广东", "广西"),
    "云贵": ("云南", "贵州"), "闽粤": ("福建", "广东"), "湘鄂": ("湖南", "湖北"),
    "京津冀": ("北京", "天津", "河北"), "港澳": ("香港", "澳门"), "潮汕": ("广东",),
    "苏北": ("江苏",), "苏南": ("江苏",), "皖北": ("安徽",), "皖南": ("安徽",),
    "湘西": ("湖南",), "鄂西": ("湖北",), "川北": ("四川",), "川南": ("四川",),
    "川东": ("四川",), "川西": ("四川",), "豫东": ("河南",), "鲁南": ("山东",),
    "粤西": ("广东",), "粤东": ("广东",), "桂北": ("广西",), "胶东": ("山东",),
    # Dialects by name.
    "粤语": ("广东", "广西", "香港", "澳门"), "白话": ("广东", "广西"),
    "广府": ("广东",), "客家": ("广东", "福建", "江西"), "闽南": ("福建",),
    "闽东": ("福建",), "闽北": ("福建",), "闽语": ("福建",), "莆仙": ("福建",),
    "吴语": ("上海", "浙江", "江苏"), "湘语": ("湖南",), "赣语": ("江西",),
    "西南官话": ("四川", "重庆", "贵州", "云南", "湖北"), "江淮官话": ("江苏", "安徽"),
    "中原官话": ("河南",), "晋语": ("山西",), "兰银官话": ("甘肃", "宁夏"),
    "胶辽官话": ("山东", "辽宁"), "冀鲁官话": ("河北", "山东", "天津"),
    "北京官话": ("北京",), "徽语": ("安徽",), "东北话": _NORTHEAST, "京腔": ("北京",),
    "京片子": ("北京",), "川普": ("四川", "重庆"), "台湾腔": ("台湾",), "台语": ("台湾",),
    "藏语": ("西藏",), "蒙语": ("内蒙古",), "维语": ("新疆",), "内蒙": ("内蒙古",),
}  # fmt: skip
"""Areas and dialect names mapped to the provinces where they are spoken."""

CITIES: Mapping[str, str] = {
    city: province
    for province, cities in {
        "四川": "成都 绵阳 自贡 泸州 德阳 乐山 南充 宜宾 达州 内江 遂宁 眉山 广安 雅安 巴中 "
        "攀枝花 凉山 资阳 广元 阿坝 甘孜",
        "重庆": "万州 涪陵 黔江 永川 合川 江津 綦江 开州 云阳 奉节 巫山",
        "湖北": "武汉 宜昌 襄阳 荆州 黄冈 孝感 十堰 恩施 荆门 咸宁 随州 黄石 鄂州 仙桃 天门",
        "湖南": "长沙 株洲 湘潭 衡阳 岳阳 常德 邵阳 益阳 郴州 永州 怀化 娄底 张家界",
        "浙江": "杭州 温州 宁波 绍兴 金华 台州 嘉兴 湖州 丽水 衢州 舟山 义乌",
        "广东": "广州 深圳 东莞 佛山 汕头 潮州 揭阳 梅州 湛江 茂名 惠州 江门 中山 珠海 "
        "韶关 清远 肇庆 阳江 河源 汕尾 云浮",
        "广西": "南宁 柳州 桂林 玉林 梧州 北海 百色 河池 贵港 钦州 防城港 贺州 崇左",
        "福建": "福州 厦门 泉州 漳州 莆田 龙岩 三明 南平 宁德",
        "江西": "南昌 赣州 九江 上饶 吉安 宜春 抚州 景德镇 萍乡 新余 鹰潭",
        "安徽": "合肥 芜湖 蚌埠 阜阳 安庆 六安 宿州 淮南 淮北 黄山 亳州 滁州 马鞍山 铜陵 宣城 池州",
        "江苏": "南京 苏州 无锡 常州 徐州 扬州 南通 盐城 淮安 连云港 镇江 泰州 宿迁",
        "云南": "昆明 曲靖 大理 红河 昭通 玉溪 保山 楚雄 文山 普洱 西双版纳 丽江 临沧",
        "贵州": "贵阳 遵义 六盘水 毕节 安顺 铜仁 黔东南 黔南 黔西南 凯里",
        "黑龙江": "哈尔滨 齐齐哈尔 牡丹江 佳木斯 大庆 鸡西 鹤岗 双鸭山 伊春 绥化 黑河",
        "吉林": "长春 延边 四平 通化 白山 松原 白城 辽源 延吉",
        "辽宁": "沈阳 大连 鞍山 抚顺 本溪 锦州 丹东 营口 铁岭 阜新 辽阳 盘锦 朝阳 葫芦岛",
        "山东": "济南 青岛 烟台 潍坊 临沂 济宁 淄博 菏泽 威海 日照 德州 聊城 泰安 枣庄 滨州 东营",
        "河南": "郑州 洛阳 开封 南阳 新乡 商丘 周口 驻马店 信阳 平顶山 安阳 焦作 许昌 漯河 "
        "三门峡 濮阳 鹤壁",
        "河北": "石家庄 唐山 保定 邯郸 邢台 沧州 张家口 承德 廊坊 衡水 秦皇岛",
        "山西": "太原 大同 运城 长治 临汾 晋中 晋城 忻州 吕梁 阳泉 朔州",
        "陕西": "西安 宝鸡 咸阳 汉中 延安 榆林 渭南 安康 商洛 铜川",
        "甘肃": "兰州 天水 白银 武威 张掖 酒泉 定西 陇南 平凉 庆阳 临夏",
        "青海": "西宁 海东 格尔木",
        "宁夏": "银川 石嘴山 吴忠 固原 中卫",
        "新疆": "乌鲁木齐 喀什 伊犁 克拉玛依 吐鲁番 哈密 阿克苏 和田 库尔勒 石河子",
        "西藏": "拉萨 日喀则 昌都 林芝 那曲",
        "内蒙古": "呼和浩特 包头 赤峰 鄂尔多斯 通辽 呼伦贝尔 乌兰察布 巴彦淖尔",
        "海南": "海口 三亚 儋州 琼海",
        "台湾": "台北 高雄 台中 台南 新竹 基隆",
    }.items()
    for city in cities.split()
}
"""Major cities and prefectures mapped to their province."""

# A one-character abbreviation counts only right before one of these (川音, 粤语, 湘西
# is an area above); chars that are also common words (新, 青, 宁, 台, 黑, 吉...) count
# only before the speech words, never before 人 or a direction.
_SPEECH_SUFFIX = "音腔语话调味普"
_PLACE_SUFFIX = "籍人地北南东西中"
_RISKY_ABBREVIATIONS = frozenset("新青宁台黑吉蒙藏甘云贵秦申京津港澳苏")

_ENGLISH_DIALECTS: Mapping[str, tuple[str, ...]] = {
    "cantonese": ("广东", "广西", "香港", "澳门"),
    "hokkien": ("福建",),
    "minnan": ("福建",),
    "hakka": ("广东", "福建", "江西"),
    "shanghainese": ("上海",),
    "teochew": ("广东",),
    "northeast": _NORTHEAST,
    "northeastern": _NORTHEAST,
    "dongbei": _NORTHEAST,
}


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _matchers() -> tuple[re.Pattern[str], Mapping[str, tuple[str, ...]]]:
    """One alternation of every place word, longest first, and what each word means."""
    meaning: dict[str, tuple[str, ...]] = {}
    for province in PROVINCES:
        meaning[province.name] = (province.name,)
        meaning[province.full_name] = (province.name,)
    for city, province_name in CITIES.items():
        meaning.setdefault(city, (province_name,))
        meaning.setdefault(city + "市", (province_name,))
    for area, provinces in AREAS.items():
        meaning[area] = provinces
    for province in PROVINCES:
        for abbreviation in province.abbreviations:
            suffixes = _SPEECH_SUFFIX
            if abbreviation not in _RISKY_ABBREVIATIONS:
                suffixes += _PLACE_SUFFIX
            for suffix in suffixes:
                meaning.setdefault(abbreviation + suffix, (province.name,))
    words = sorted(meaning, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words))
    return pattern, meaning


@cache
def _english() -> tuple[re.Pattern[str], Mapping[str, tuple[str, ...]]]:
    meaning: dict[str, tuple[str, ...]] = {p.english.casefold(): (p.name,) for p in PROVINCES}
    meaning.update(_ENGLISH_DIALECTS)
    words = sorted(meaning, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b"), meaning


@lru_cache(maxsize=4096)
def regions_from_text(text: str) -> frozenset[str]:
    """The provinces an accent note or hometown fragment points to; empty if none.

    >>> sorted(regions_from_text("东北口音"))
    ['吉林', '辽宁', '黑龙江']
    >>> sorted(regions_from_text("湖南长沙人"))
    ['湖南']
    """
    folded = _t2s().convert(text).strip()
    pattern, meaning = _matchers()
    found: set[str] = set()
    for province in PROVINCES:
        # A field holding nothing but an abbreviation ("渝") is safe to read as one.
        if folded in province.abbreviations:
            found.add(province.name)
    for match in pattern.finditer(folded):
        found.update(meaning[match.group(0)])
    english, english_meaning = _english()
    for match in english.finditer(text.casefold()):
        found.update(english_meaning[match.group(1)])
    return frozenset(found)


def regions_from_texts(*texts: str | None) -> frozenset[str]:
    """The provinces several fields point to together (accent, hometown, a place);
    empty and missing fields add nothing."""
    out: set[str] = set()
    for text in texts:
        if text:
            out |= regions_from_text(text)
    return frozenset(out)


@lru_cache(maxsize=1024)
def _resolve_one(region: str) -> frozenset[str]:
    if region in PROVINCE_NAMES:
        return frozenset((region,))
    found = regions_from_text(region)
    if not found:
        raise ValueError(
            f"unknown region {region!r}: expected a province such as '四川', an area such as "
            "'东北', or text that regions_from_text() can read"
        )
    return found


def resolve_regions(regions: Collection[str]) -> frozenset[str]:
    """Province names for regions given as provinces, areas or short text.

    Raises ValueError for an entry that names no known place, rather than silently
    treating the speaker as being from nowhere.
    """
    out: set[str] = set()
    for region in regions:
        out |= _resolve_one(region)
    return frozenset(out)


def english_name(province: str) -> str:
    """The English name of a province (``四川`` -> ``Sichuan``); the name itself if unknown."""
    for candidate in PROVINCES:
        if candidate.name == province:
            return candidate.english
    return province
