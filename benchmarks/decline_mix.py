"""Choose where the assistant declines on the same mix the search settings are chosen on: the
built-in set and the tuning part of the real-question set (never a held-out part).

    python benchmarks/decline_mix.py --home /tmp/evalhome

For each cut of the top similarity (`relevance`: the best cosine of the question as asked, without
focus or adapter, to the passages found and their sentences) between 0.15 and 0.60, the share of unanswerable questions declined and of answerable ones wrongly declined on
each set; the cut chosen is the one with the best mean of (declined unanswerable - wrongly
declined) over the two sets (Youden's J, averaged), the plain "not covered" 0.02 under the lowest
answerable score of the mix (as `closer eval --calibrate` does).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from compare import REAL

from assistant.compose import relevance
from assistant.evaluation import load_testset, open_assistant
from assistant.settings import Settings, default_corpus
from index import IndexSettings, get_embedder


def scores(assistant, evalset) -> list[tuple[bool, float]]:
    out = []
    for case in evalset.cases:
        vector, tokens = assistant.embed_question(case.question)
        hits = assistant.search(case.question, vector, tokens, k=5)
        out.append((case.answerable, relevance(assistant.index, vector, hits)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    own, real = load_testset(None), load_testset(REAL, split="tune")
    assistant = open_assistant(own, Settings(home=args.home / "project", corpus=default_corpus()), get_embedder(),
                               index_settings=IndexSettings(), notify=print)
    sets = {"own": scores(assistant, own), "real-tune": scores(assistant, real)}
    print("| cut | own declined | own wrongly | real-tune declined | real-tune wrongly | mean J |")
    print("| --- | --- | --- | --- | --- | --- |")
    best = None
    for cut in [round(0.15 + 0.01 * i, 2) for i in range(46)]:
        cells, j = [], 0.0
        for rows in sets.values():
            unanswerable = [s for a, s in rows if not a]
            answerable = [s for a, s in rows if a]
            declined = sum(s < cut for s in unanswerable) / len(unanswerable)
            wrongly = sum(s < cut for s in answerable) / len(answerable)
            cells += [declined, wrongly]
            j += (declined - wrongly) / len(sets)
        print(f"| {cut:.2f} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {j:.3f} |")
        if best is None or j > best[1]:
            best = (cut, j)
    lowest = min(s for rows in sets.values() for a, s in rows if a)
    print(f"chosen: confident_relevance {best[0]:.2f} (mean J {best[1]:.3f}); "
          f"min_relevance {min(best[0], lowest - 0.02):.2f}")


if __name__ == "__main__":
    main()
