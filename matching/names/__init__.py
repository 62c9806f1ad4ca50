"""Chinese names as they are heard: normalising, reading, dialects, 小名, comparison.

A station writes down what it hears: 牛建华 for 刘建华 from a Sichuan man, 胡奎 for
付贵, "jianhua liu" typed by staff, 阿明 from a mother. :func:`compare_names` places two
records' names on an ordered scale (:class:`NameLevel`) and says why; :class:`NameIndex`
finds the candidates worth comparing among many records.
"""

from matching.names.compare import NameComparison, compare_names
from matching.names.dialects import NEAR_RULES, RULES, DialectRule, rules_for_regions
from matching.names.frequency import given_rarity_of, surname_share_of
from matching.names.given_names import given_char_share, given_name_rarity
from matching.names.index import NameHit, NameIndex
from matching.names.keys import blocking_keys, probe_keys, surname_keys
from matching.names.levels import NameLevel
from matching.names.nicknames import Nickname, NicknameKind, parse_nickname
from matching.names.normalise import (
    NameWord,
    NormalisedName,
    Script,
    fold_name,
    is_missing_name,
    normalise_name,
)
from matching.names.readings import NameSplit, split_name, surname_reading
from matching.names.regions import (
    PROVINCES,
    regions_from_text,
    regions_from_texts,
    resolve_regions,
)
from matching.names.surnames import surname_share
from matching.names.syllables import SYLLABLES, segment_pinyin

__all__ = [
    "NEAR_RULES",
    "PROVINCES",
    "RULES",
    "SYLLABLES",
    "DialectRule",
    "NameComparison",
    "NameHit",
    "NameIndex",
    "NameLevel",
    "NameSplit",
    "NameWord",
    "Nickname",
    "NicknameKind",
    "NormalisedName",
    "Script",
    "blocking_keys",
    "compare_names",
    "fold_name",
    "given_char_share",
    "given_name_rarity",
    "given_rarity_of",
    "is_missing_name",
    "normalise_name",
    "parse_nickname",
    "probe_keys",
    "regions_from_text",
    "regions_from_texts",
    "resolve_regions",
    "rules_for_regions",
    "segment_pinyin",
    "split_name",
    "surname_keys",
    "surname_reading",
    "surname_share",
    "surname_share_of",
]
