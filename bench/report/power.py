"""The power table: what difference each test could detect (minimum detectable effect).

A mark that is absent means "not detected", not "no difference"; this table says how big a
difference would have been detected with 80% power, per task and K, for the claims across
languages (the language as the unit) and the per-language claims (the episode as the
unit), at the family's Bonferroni level alpha/m (the first step of Holm's procedure).
The MDE comes from the spread of each comparison's unit differences
(:func:`bench.stats.mde`); the table gives the median over methods (and languages).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench import inference
from bench.report.tables import Table, shot_label, shot_order


def power_table(pooled: pd.DataFrame, per_lang: pd.DataFrame, budget: int,
                kinds: dict[str, str], alpha: float = 0.05) -> Table | None:
    """Per (task, K): units, family size and the median MDE of both levels (points)."""
    p = pooled[pooled["budget"] == budget]
    e = per_lang[per_lang["budget"] == budget]
    if p.empty and e.empty:
        return None
    rows = []
    for task in sorted(set(p["task"]) | set(e["task"])):
        for k in shot_order(pd.concat([p.loc[p["task"] == task, "shots"],
                                       e.loc[e["task"] == task, "shots"]])):
            a = p[(p["task"] == task) & (p["shots"] == k)]
            b = e[(e["task"] == task) & (e["shots"] == k)]
            rows.append({
                "task": task, "shots": k,
                "lang_unit": ", ".join(sorted(set(a["unit"]))) if len(a) else "",
                "lang_n": int(a["n"].median()) if len(a) else 0,
                "lang_m": int(a["family_size"].max()) if len(a) else 0,
                "lang_mde": float(a["mde"].median()) if len(a) else np.nan,
                "lang_sig": int(a["significant"].sum()), "lang_tests": len(a),
                "ep_n": int(b["n"].median()) if len(b) else 0,
                "ep_m": int(b["family_size"].max()) if len(b) else 0,
                "ep_mde": float(b["mde"].median()) if len(b) else np.nan,
                "ep_sig": int(b["significant"].sum()), "ep_tests": len(b),
            })
    data = pd.DataFrame(rows)

    def fmt(x: float) -> str:
        return "—" if pd.isna(x) else f"{x:.1f}"

    display = pd.DataFrame({
        "task": data["task"], "K": data["shots"].map(lambda k: shot_label(k)[2:]),
        "across languages: units": [f"{n} {u}s" if u else "—" for n, u in
                                    zip(data["lang_n"], data["lang_unit"])],
        "m": data["lang_m"].astype(str), "MDE": data["lang_mde"].map(fmt),
        "significant": [f"{s}/{t}" for s, t in zip(data["lang_sig"], data["lang_tests"])],
        "per language: episodes": data["ep_n"].astype(str),
        "m ": data["ep_m"].astype(str), "MDE ": data["ep_mde"].map(fmt),
        "significant ": [f"{s}/{t}" for s, t in zip(data["ep_sig"], data["ep_tests"])],
    })
    kinds_here = sorted({kinds[t] for t in data["task"] if t in kinds})
    return Table("power", f"Power: the smallest difference each test detects with "
                 f"{inference.POWER:.0%} power (points); source budget {budget}", display, data,
                 None, f"MDE: the median over methods (and languages) of the minimum detectable "
                 f"effect of the paired t-test at level alpha/m = {alpha:g}/m (m = the Holm "
                 f"family: {inference.family('language')} across languages, "
                 f"{inference.family('episode')} per language), from the spread of its unit "
                 f"differences. A difference smaller than the MDE is likely to go unmarked. "
                 f"{inference.shots_meaning(kinds_here)}.")
