"""Per-language metadata for the real tasks: script and language family.

Families are top-level genealogical units (Glottolog-style, with "Niger-Congo" for the
Atlantic-Congo and Mande languages and "Creole" for creoles); scripts are ISO 15924 codes.
SIB-200 folder names carry their script (``hau_Latn``); the other datasets use the
tables below. Unknown codes get family "unknown" rather than a guess.
"""

from __future__ import annotations

from bench.types import LanguageInfo

_FAMILIES: dict[str, str] = {
    "Indo-European": (
        "afr als asm ast awa bel ben bho bos bul cat ces ckb cym dan deu ell eng fao fra fur "
        "gla gle glg guj hin hne hrv hye isl ita kas kmr lij lim lit lmo ltg ltz lvs "
        "mag mai mar mkd nld nno nob npi oci ory pan pbt pes pol por prs ron rus san scn sin "
        "slk slv snd spa srd srp swe szl tgk ukr urd vec ydd"
    ),
    "Afro-Asiatic": (
        "acm acq aeb ajp amh apc arb ars ary arz gaz hau heb kab mlt orm som taq tir tzm"
    ),
    "Niger-Congo": (
        "aka bam bem cjk dyu ewe fon fuv ibo kam kbp kik kin kmb kon lin lua lug mos nqo nso "
        "nya run sag sna sot ssw swa swh tsn tso tum twi umb wol xho yor zul"
    ),
    "Nilo-Saharan": "dik knc luo nus",
    "Austronesian": (
        "ace ban bbc bjn bug ceb fij ilo ind jav mad min mri nij pag plt smo sun tgl war zsm"
    ),
    "Sino-Tibetan": "bod dzo kac lus mni mya yue zho",
    "Tai-Kadai": "lao shn tha",
    "Austroasiatic": "khm sat vie",
    "Dravidian": "kan mal tam tel",
    "Turkic": "azb azj bak crh kaz kir tat tuk tur uig uzn",
    "Uralic": "est fin hun",
    "Kartvelian": "kat",
    "Japonic": "jpn",
    "Koreanic": "kor",
    "Mongolic": "khk",
    "Basque": "eus",
    "Constructed": "epo",
    "Quechuan": "quy",
    "Aymaran": "ayr",
    "Tupian": "grn",
    "Creole": "hat kea pap pcm tpi",
}

#: ISO 639-3 code -> family.
FAMILY: dict[str, str] = {
    code: family
    for family, codes in _FAMILIES.items()
    for code in codes.split()
}

#: ISO 639-1 codes used by XQuAD -> ISO 639-3.
ISO1_TO_3: dict[str, str] = {
    "ar": "arb", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "hi": "hin",
    "ro": "ron", "ru": "rus", "th": "tha", "tr": "tur", "vi": "vie", "zh": "zho",
}

#: Scripts of the non-SIB languages (everything else in these tasks is Latin).
SCRIPT: dict[str, str] = {
    "amh": "Ethi", "tir": "Ethi", "arb": "Arab", "ell": "Grek", "hin": "Deva",
    "rus": "Cyrl", "tha": "Thai", "zho": "Hans",
}

#: NusaX folder names -> ISO 639-3 (NusaX, Winata et al. 2023, Table 1).
NUSAX_ISO: dict[str, str] = {
    "acehnese": "ace", "balinese": "ban", "banjarese": "bjn", "buginese": "bug",
    "english": "eng", "indonesian": "ind", "javanese": "jav", "madurese": "mad",
    "minangkabau": "min", "ngaju": "nij", "sundanese": "sun", "toba_batak": "bbc",
}


def language_info(code: str, iso3: str | None = None, script: str | None = None) -> LanguageInfo:
    """Metadata for a language key ``code`` (a folder name or an ISO code).

    ``iso3`` defaults to the part before ``_`` (SIB-200 ``hau_Latn``), ``script`` to the
    part after it, else the :data:`SCRIPT` table, else Latin.
    """
    base, _, suffix = code.partition("_")
    iso = iso3 or ISO1_TO_3.get(base, base)
    return LanguageInfo(
        code=code,
        script=script or suffix or SCRIPT.get(iso, "Latn"),
        family=FAMILY.get(iso, "unknown"),
    )


def check_languages(
    task: str, source: tuple[str, ...], target: tuple[str, ...] | None, available: tuple[str, ...],
    dev: tuple[str, ...] = (),
) -> None:
    """Every configured language exists, and none is in two roles (source, dev, target).

    ``target=None`` (tuning) checks the source and dev languages only: a tuning run never
    looks for target files.

    Raises DataError naming the unknown languages and the valid ones (with near matches).
    """
    import difflib

    from bench.errors import DataError

    checked = target is not None
    target = target or ()
    unknown = [lang for lang in (*source, *dev, *target) if lang not in available]
    if unknown:
        near = {u: difflib.get_close_matches(u, available, n=3) for u in unknown}
        raise DataError(
            f"{task}: unknown language(s) {unknown} (did you mean {near}?); "
            f"the data has {len(available)}: {', '.join(available)}"
        )
    both = sorted(set(source) & set(target))
    if both:
        raise DataError(
            f"{task}: {both} are both source and target languages; a target language is "
            f"never seen in training except its K-shot support set (docs/architecture.md, 'The protocol'). Remove "
            f"them from source_langs or target_langs."
        )
    if checked and not target:
        raise DataError(f"{task}: target_langs is empty; name at least one of {available}")
    for role, langs in (("source", source), ("target", target)):
        clash = sorted(set(dev) & set(langs))
        if clash:
            raise DataError(
                f"{task}: {clash} are both dev and {role} languages; dev languages are for "
                f"tuning only and must be disjoint from both. Remove them from dev_langs or "
                f"{role}_langs."
            )
