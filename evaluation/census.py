"""Who lives where and what they are called: the population tables the generator draws from.

Sources and how far to trust them:

- **Provinces**: resident population of the 31 mainland provinces at the 7th national census
  (2020), in millions. Each province lists a handful of its cities (prefecture-level cities,
  or districts for the four municipalities) with the dialect group spoken there, so the
  dialect follows from the city: 苏州 is 吴语 while 南京 is 江淮官话 and 徐州 中原官话.
  Cities within a province are drawn with equal weight, which makes the dialect split inside
  a province only roughly right. Tibet and Xinjiang carry the dialect of their Han residents,
  because every generated name is a Han name (a known limit of this generator).
- **Surnames**: the ranking of the 2020 national name report (公安部户政管理研究中心). Shares
  of the top 20 are rounded published figures (王 7.1%, 李 7.0%, 张 6.8%, 刘 5.4%, 陈 4.5%,
  ...). Ranks 21-100 decay geometrically so that the top 100 cover 85% (the published
  coverage); the listed surnames beyond rank 100 carry the remaining 15%, standing in for
  the ~1,500 rarer surnames not listed, so a rare surname here is about as rare as in life.
  Compound surnames (欧阳, 司徒, 上官, 司马, 诸葛, ...) carry their own small shares.
- **Given-name characters**: hand-curated lists of the characters most used in given names,
  by sex and birth cohort, following the well-documented trends (建/国/军/华 for men born in
  the 1950s-60s, 秀/英/兰/芳 for older women, 浩/宇/轩/子 for boys of the 2000s-2010s,
  欣/怡/梓/涵 for girls). Within a list, weight falls with rank (a Zipf-like 1/(rank+3));
  these are shapes, not measured frequencies. The share of one-character given names rises
  to about a third for people born in the 1980s and falls again after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# ---------------------------------------------------------------------------------------
# Dialect groups
# ---------------------------------------------------------------------------------------

BEIJING: Final = "北京官话"
NORTHEAST: Final = "东北官话"
JILU: Final = "冀鲁官话"
JIAOLIAO: Final = "胶辽官话"
ZHONGYUAN: Final = "中原官话"
LANYIN: Final = "兰银官话"
SOUTHWEST: Final = "西南官话"
JIANGHUAI: Final = "江淮官话"
JIN: Final = "晋语"
WU: Final = "吴语"
HUI: Final = "徽语"
GAN: Final = "赣语"
XIANG: Final = "湘语"
MIN: Final = "闽语"
YUE: Final = "粤语"
HAKKA: Final = "客家话"

DIALECT_GROUPS: Final = (
    BEIJING, NORTHEAST, JILU, JIAOLIAO, ZHONGYUAN, LANYIN, SOUTHWEST, JIANGHUAI,
    JIN, WU, HUI, GAN, XIANG, MIN, YUE, HAKKA,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class City:
    """A city (or a municipality's district) with the dialect group spoken there."""

    province: str
    name: str
    dialect: str

    @property
    def place(self) -> str:
        """Province and city, as a family or a station writes a place: 四川省绵阳市."""
        return f"{self.province}{self.name}"

    @property
    def short_name(self) -> str:
        """The city without its suffix, as people say it: 绵阳."""
        for suffix in ("市", "区", "新区"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


@dataclass(frozen=True, slots=True)
class Province:
    """A mainland province-level division and the cities the generator places people in."""

    name: str
    short: str
    population_millions: float
    accent_label: str
    cities: tuple[City, ...]


def _province(
    name: str,
    short: str,
    population: float,
    cities_by_dialect: Mapping[str, str],
    *,
    accent: str | None = None,
) -> Province:
    """Build a province from ``{dialect group: "city city ..."}``."""
    cities: list[City] = []
    for dialect, names in cities_by_dialect.items():
        if dialect not in DIALECT_GROUPS:
            raise ValueError(f"{name}: unknown dialect group {dialect}")
        cities.extend(City(province=name, name=city, dialect=dialect) for city in names.split())
    return Province(name, short, population, accent or short, tuple(cities))


# Resident population, 7th national census (2020), millions.
PROVINCES: Final[tuple[Province, ...]] = (
    _province("北京市", "北京", 21.89, {"北京官话": "朝阳区 海淀区 丰台区 通州区 大兴区"}),
    _province("天津市", "天津", 13.87, {"冀鲁官话": "和平区 南开区 河西区 滨海新区 武清区"}),
    _province(
        "河北省",
        "河北",
        74.61,
        {"冀鲁官话": "石家庄市 唐山市 保定市 沧州市 邢台市", "晋语": "邯郸市 张家口市"},
    ),
    _province(
        "山西省",
        "山西",
        34.92,
        {"晋语": "太原市 大同市 长治市 晋中市", "中原官话": "运城市 临汾市"},
    ),
    _province(
        "内蒙古自治区",
        "内蒙古",
        24.05,
        {"晋语": "呼和浩特市 包头市 鄂尔多斯市", "东北官话": "赤峰市 通辽市"},
    ),
    _province(
        "辽宁省",
        "辽宁",
        42.59,
        {"东北官话": "沈阳市 鞍山市 抚顺市 锦州市", "胶辽官话": "大连市"},
        accent="东北",
    ),
    _province("吉林省", "吉林", 24.07, {"东北官话": "长春市 吉林市 四平市 通化市"}, accent="东北"),
    _province(
        "黑龙江省",
        "黑龙江",
        31.85,
        {"东北官话": "哈尔滨市 齐齐哈尔市 牡丹江市 佳木斯市 大庆市"},
        accent="东北",
    ),
    _province("上海市", "上海", 24.87, {"吴语": "浦东新区 闵行区 宝山区 松江区 嘉定区"}),
    _province(
        "江苏省",
        "江苏",
        84.75,
        {
            "江淮官话": "南京市 扬州市 盐城市 淮安市 南通市",
            "中原官话": "徐州市",
            "吴语": "苏州市 无锡市 常州市",
        },
    ),
    _province("浙江省", "浙江", 64.57, {"吴语": "杭州市 宁波市 温州市 绍兴市 金华市 台州市"}),
    _province(
        "安徽省",
        "安徽",
        61.03,
        {"江淮官话": "合肥市 安庆市 芜湖市", "中原官话": "阜阳市 宿州市 蚌埠市", "徽语": "黄山市"},
    ),
    _province(
        "福建省", "福建", 41.54, {"闽语": "福州市 厦门市 泉州市 漳州市 莆田市", "客家话": "龙岩市"}
    ),
    _province(
        "江西省", "江西", 45.19, {"赣语": "南昌市 九江市 上饶市 宜春市 吉安市", "客家话": "赣州市"}
    ),
    _province(
        "山东省",
        "山东",
        101.53,
        {
            "冀鲁官话": "济南市 潍坊市 淄博市 德州市",
            "胶辽官话": "青岛市 烟台市",
            "中原官话": "临沂市 菏泽市 济宁市",
        },
    ),
    _province(
        "河南省", "河南", 99.37, {"中原官话": "郑州市 洛阳市 南阳市 周口市 商丘市 驻马店市 信阳市"}
    ),
    _province(
        "湖北省",
        "湖北",
        57.75,
        {"西南官话": "武汉市 宜昌市 襄阳市 荆州市 十堰市", "江淮官话": "黄冈市 孝感市"},
    ),
    _province(
        "湖南省",
        "湖南",
        66.45,
        {
            "湘语": "长沙市 湘潭市 株洲市 衡阳市 邵阳市 娄底市",
            "西南官话": "常德市 怀化市",
            "赣语": "岳阳市",
        },
    ),
    _province(
        "广东省",
        "广东",
        126.01,
        {
            "粤语": "广州市 佛山市 东莞市 深圳市 江门市 湛江市",
            "闽语": "汕头市 潮州市 揭阳市",
            "客家话": "梅州市 河源市 惠州市",
        },
    ),
    _province(
        "广西壮族自治区",
        "广西",
        50.13,
        {"粤语": "南宁市 梧州市 玉林市 钦州市", "西南官话": "柳州市 桂林市 河池市"},
    ),
    _province("海南省", "海南", 10.08, {"闽语": "海口市 三亚市 儋州市"}),
    _province("重庆市", "重庆", 32.05, {"西南官话": "渝中区 万州区 涪陵区 江北区 九龙坡区"}),
    _province(
        "四川省", "四川", 83.67, {"西南官话": "成都市 绵阳市 南充市 宜宾市 达州市 泸州市 乐山市"}
    ),
    _province("贵州省", "贵州", 38.56, {"西南官话": "贵阳市 遵义市 毕节市 六盘水市 铜仁市"}),
    _province("云南省", "云南", 47.21, {"西南官话": "昆明市 曲靖市 昭通市 玉溪市 保山市"}),
    _province("西藏自治区", "西藏", 3.65, {"西南官话": "拉萨市 日喀则市 昌都市"}),
    _province(
        "陕西省",
        "陕西",
        39.53,
        {"中原官话": "西安市 宝鸡市 咸阳市 渭南市", "晋语": "榆林市 延安市", "西南官话": "汉中市"},
    ),
    _province(
        "甘肃省", "甘肃", 25.02, {"兰银官话": "兰州市 武威市 张掖市", "中原官话": "天水市 平凉市"}
    ),
    _province("青海省", "青海", 5.92, {"中原官话": "西宁市 海东市"}),
    _province(
        "宁夏回族自治区", "宁夏", 7.20, {"兰银官话": "银川市 石嘴山市", "中原官话": "固原市"}
    ),
    _province(
        "新疆维吾尔自治区",
        "新疆",
        25.85,
        {"兰银官话": "乌鲁木齐市 石河子市 克拉玛依市", "中原官话": "哈密市"},
    ),
)

PROVINCES_BY_NAME: Final[Mapping[str, Province]] = MappingProxyType({p.name: p for p in PROVINCES})

# Where migrant workers go to work: the big receiving provinces of the 2020 census's
# cross-province migration, as rough weights (not measured shares).
MIGRANT_DESTINATIONS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "广东省": 0.30, "浙江省": 0.14, "江苏省": 0.11, "上海市": 0.09, "北京市": 0.07,
        "福建省": 0.06, "天津市": 0.04, "山东省": 0.04, "新疆维吾尔自治区": 0.03,
        "四川省": 0.02, "河北省": 0.02, "湖北省": 0.02, "辽宁省": 0.02, "内蒙古自治区": 0.02,
        "重庆市": 0.02,
    }
)  # fmt: skip

# Coarse accent labels a station writes when it only places the region.
DIALECT_ACCENT_LABEL: Final[Mapping[str, str]] = MappingProxyType(
    {
        BEIJING: "北方", NORTHEAST: "东北", JILU: "北方", JIAOLIAO: "山东", ZHONGYUAN: "北方",
        LANYIN: "西北", SOUTHWEST: "西南", JIANGHUAI: "南方", JIN: "北方", WU: "江浙",
        HUI: "南方", GAN: "南方", XIANG: "南方", MIN: "闽南", YUE: "粤语", HAKKA: "客家",
    }
)  # fmt: skip

# ---------------------------------------------------------------------------------------
# Surnames
# ---------------------------------------------------------------------------------------

# Published shares (percent) of the 20 most common surnames, in the 2020 ranking order.
_TOP20: Final = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.5),
    ("赵", 2.0), ("吴", 2.0), ("周", 1.9), ("徐", 1.3), ("孙", 1.3), ("马", 1.2), ("胡", 1.1),
    ("朱", 1.1), ("郭", 1.1), ("何", 1.0), ("罗", 0.9), ("高", 0.9), ("林", 0.9),
)  # fmt: skip

# Ranks 21-100, in ranking order.
_RANK_21_100: Final = (
    "郑梁谢唐宋许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖"
    "石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常"
)

# Beyond rank 100, roughly in descending order of frequency.
_RANK_101_ON: Final = (
    "汤康易乔赖文施洪牛樊葛邢安齐伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符"
    "舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
    "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟"
    "邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁"
    "胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖"
    "漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭"
    "况那宿鲜印逯隆茹诸战慕危玉银亢嵇公湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智"
    "幸奉植衡富尧闭由"
)

# Compound surnames with rough shares (percent): 欧阳 is about a million people; the rest
# are rarer, down to a few thousand for 万俟 or 单于.
COMPOUND_SURNAMES: Final[Mapping[str, float]] = MappingProxyType(
    {
        "欧阳": 0.08, "司徒": 0.015, "上官": 0.006, "司马": 0.006, "诸葛": 0.004,
        "皇甫": 0.003, "令狐": 0.003, "东方": 0.002, "慕容": 0.001, "夏侯": 0.001,
        "公孙": 0.0005, "端木": 0.0005, "尉迟": 0.0003, "万俟": 0.0001, "单于": 0.0001,
    }
)  # fmt: skip

TOP100_COVERAGE: Final = 85.0
_RANK_21_100_DECAY: Final = 0.978
_RANK_101_ON_DECAY: Final = 0.995


def _surname_shares() -> tuple[tuple[str, float], ...]:
    """Every listed surname with its share of the population (shares sum to 1)."""
    shares = [(s, p) for s, p in _TOP20]
    top20 = sum(p for _, p in _TOP20)
    raw = [_RANK_21_100_DECAY**i for i in range(len(_RANK_21_100))]
    scale = (TOP100_COVERAGE - top20) / sum(raw)
    shares.extend((s, w * scale) for s, w in zip(_RANK_21_100, raw, strict=True))
    tail_total = 100.0 - TOP100_COVERAGE - sum(COMPOUND_SURNAMES.values())
    raw = [_RANK_101_ON_DECAY**i for i in range(len(_RANK_101_ON))]
    scale = tail_total / sum(raw)
    shares.extend((s, w * scale) for s, w in zip(_RANK_101_ON, raw, strict=True))
    shares.extend(COMPOUND_SURNAMES.items())
    return tuple((s, p / 100.0) for s, p in shares)


SURNAME_SHARES: Final[tuple[tuple[str, float], ...]] = _surname_shares()
"""``(surname, share)`` in rank order; compound surnames last. Shares sum to 1."""

# Surname readings that differ from the character's everyday reading (pypinyin has no
# surname mode, so a reading of 单 as "dan" would be wrong for the surname).
SURNAME_READINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "单": "shan", "曾": "zeng", "解": "xie", "查": "zha", "朴": "piao", "区": "ou",
        "仇": "qiu", "覃": "qin", "缪": "miao", "翟": "zhai", "盖": "ge", "乐": "yue",
        "秘": "bi", "种": "chong", "繁": "po", "宿": "su", "尉": "yu", "万俟": "moqi",
        "尉迟": "yuchi", "单于": "chanyu", "长孙": "zhangsun", "令狐": "linghu",
        "都": "du", "阚": "kan", "柏": "bai", "燕": "yan",
    }
)  # fmt: skip

# ---------------------------------------------------------------------------------------
# Given names
# ---------------------------------------------------------------------------------------

COHORTS: Final = ("1930-1959", "1960s", "1970s", "1980s", "1990s", "2000s", "2010s")


def cohort_of(birth_year: int) -> str:
    """The naming cohort of a birth year (everything before 1960 is one cohort)."""
    if birth_year < 1960:
        return COHORTS[0]
    if birth_year >= 2010:
        return COHORTS[-1]
    return f"{birth_year // 10 * 10}s"


# Most common given-name characters, most common first, by sex and cohort.
_GIVEN_CHARS_TEXT: Final = {
    ("M", "1930-1959"): (
        "明国文华德建志永林成军平福荣生海金忠伟玉兴祥强清春庆宝新东光山富贵友才根树义发洪喜全昌"
    ),
    ("M", "1960s"): ("明国华建文平志伟军永林强德海东新春红学勇刚兵忠荣光庆斌卫民跃进胜利辉峰洪"),
    ("M", "1970s"): ("军国建华明伟海平志文强勇林东红辉峰涛斌刚波杰俊亮鹏飞兵宏磊永新春超"),
    ("M", "1980s"): ("伟明强军海文龙建华志杰鹏涛磊超辉勇波亮斌飞俊刚峰宇浩鑫帅晓东阳凯健"),
    ("M", "1990s"): ("文伟志杰明鹏宇浩龙强超俊鑫磊飞涛辉凯阳帅豪旭博晨泽家佳子航天一"),
    ("M", "2000s"): ("宇文浩杰豪龙俊鑫子博泽鹏家明一轩天晨睿瑞航凯阳昊嘉佳乐旭铭"),
    ("M", "2010s"): ("子宇浩轩梓睿泽一辰俊博航宸皓铭熙逸昊奕嘉瑞晨锦沐然阳杰凯言乐"),
    ("F", "1930-1959"): ("秀英兰玉珍华桂凤芳淑荣云梅琴香金花美素芝莲翠娥菊清月爱彩萍仙"),
    ("F", "1960s"): ("英秀玉华兰红梅凤珍丽芳玲春桂云霞平琴艳萍敏燕娟淑荣美菊"),
    ("F", "1970s"): ("红英丽梅艳华秀玲霞芳燕玉萍春云娟兰敏静凤珍琴莉晓小慧颖"),
    ("F", "1980s"): ("丽艳燕红娟霞芳玲静敏婷晓丹慧小雪琳莉倩萍颖洁娜佳"),
    ("F", "1990s"): ("丽婷晓雪静敏慧玲佳欣倩琳颖丹娜梦月悦雨瑶怡琪思洁宁"),
    ("F", "2000s"): ("欣佳雨怡婷梦思雪琪慧涵悦雅晓子诗嘉萱瑶璐妍可一馨月"),
    ("F", "2010s"): ("梓欣子涵怡诗雨可萱语若依一思悦彤琪佳馨沐妍汐嘉瑶安"),
}

GIVEN_NAME_CHARS: Final[Mapping[tuple[str, str], tuple[str, ...]]] = MappingProxyType(
    {key: tuple(text) for key, text in _GIVEN_CHARS_TEXT.items()}
)
"""Given-name characters by ``(sex, cohort)``, most common first."""

# Share of one-character given names by cohort: rare before 1960, about a third in the
# 1980s, falling again as parents avoid the many namesakes.
SINGLE_CHAR_GIVEN_SHARE: Final[Mapping[str, float]] = MappingProxyType(
    {
        "1930-1959": 0.15, "1960s": 0.20, "1970s": 0.30, "1980s": 0.35, "1990s": 0.30,
        "2000s": 0.20, "2010s": 0.12,
    }
)  # fmt: skip

# Girls' reduplicated given names (婷婷, 丽丽) are a common registered form.
REDUPLICATED_GIVEN_SHARE_F: Final = 0.03


def rank_weights(n: int) -> tuple[float, ...]:
    """Zipf-like weights 1/(rank+3) for a list of ``n`` items, normalised to sum to 1."""
    raw = [1.0 / (rank + 3) for rank in range(1, n + 1)]
    total = sum(raw)
    return tuple(w / total for w in raw)
