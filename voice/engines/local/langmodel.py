"""A small trigram language model biased toward the site: commands, page names and topics.

pocketsphinx cannot interpolate two models at run time, so we build one ARPA model: trigrams
counted from example sentences (the phrases the responder understands, filled with the site's
hints), backing off to unigrams that mix those sentences with the most frequent words of the
general US English model. Site phrases become likely; any common word stays possible.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

BACKGROUND_WORDS = 10000  # how many general words stay reachable through unigram backoff
DOMAIN_WEIGHT = 0.8  # share of unigram mass given to the site sentences
DISCOUNT = 0.5  # absolute discount taken from every seen bigram/trigram
Gram = tuple[str, ...]


def build_arpa(
    sentences: Iterable[str],
    background: Iterable[tuple[str, float]],
    domain_weight: float = DOMAIN_WEIGHT,
) -> str:
    """ARPA text of a trigram model over ``sentences`` backing off to ``background``."""
    c1: Counter[str] = Counter()
    c2: Counter[Gram] = Counter()
    c3: Counter[Gram] = Counter()
    for sentence in sentences:
        tokens = ["<s>", *sentence.split(), "</s>"]
        c1.update(tokens[1:])
        c2.update(zip(tokens, tokens[1:], strict=False))
        c3.update(zip(tokens, tokens[1:], tokens[2:], strict=False))
    if not c1:
        c1["</s>"] = 1
    background = list(background)
    total = sum(c1.values())
    bg_total = sum(p for _, p in background) or 1.0
    bg_weight = 1.0 - domain_weight if background else 0.0
    dom_weight = 1.0 - bg_weight
    p1 = {w: dom_weight * c / total for w, c in c1.items()}
    for word, prob in background:
        p1[word] = p1.get(word, 0.0) + bg_weight * prob / bg_total

    p2, alpha1 = _discounted(c2, lambda _h, w: p1[w])
    p3, alpha2 = _discounted(c3, lambda h, w: p2.get((h[-1], w), alpha1.get(h[-1], 1.0) * p1[w]))
    return _format_arpa(p1, alpha1, p2, alpha2, p3)


def _discounted(
    counts: Counter[Gram], lower: Callable[[Gram, str], float]
) -> tuple[dict[Gram, float], dict[Any, float]]:
    """Absolute discounting: seen n-gram probabilities and their histories' backoff weights."""
    history_total: Counter[Gram] = Counter()
    history_types: Counter[Gram] = Counter()
    for gram, count in counts.items():
        history_total[gram[:-1]] += count
        history_types[gram[:-1]] += 1
    probs = {g: (c - DISCOUNT) / history_total[g[:-1]] for g, c in counts.items()}
    seen_lower: dict[Gram, float] = defaultdict(float)
    for gram in counts:
        seen_lower[gram[:-1]] += lower(gram[:-1], gram[-1])
    alphas: dict[Any, float] = {}  # keyed by the word for bigram histories, else the tuple
    for history, total in history_total.items():
        left = DISCOUNT * history_types[history] / total  # mass freed by discounting
        key = history[0] if len(history) == 1 else history
        alphas[key] = left / max(1e-9, 1.0 - seen_lower[history])
    return probs, alphas


def _format_arpa(
    p1: dict[str, float],
    alpha1: dict[Any, float],
    p2: dict[Gram, float],
    alpha2: dict[Any, float],
    p3: dict[Gram, float],
) -> str:
    def log(value: float) -> str:
        return f"{math.log10(max(value, 1e-99)):.5f}"

    lines = ["\\data\\", f"ngram 1={len(p1) + 1}", f"ngram 2={len(p2)}", f"ngram 3={len(p3)}"]
    lines += ["", "\\1-grams:", f"-99 <s> {log(alpha1.get('<s>', 1.0))}"]
    for word, prob in p1.items():
        backoff = f" {log(alpha1[word])}" if word in alpha1 else ""
        lines.append(f"{log(prob)} {word}{backoff}")
    lines += ["", "\\2-grams:"]
    for (a, b), prob in p2.items():
        backoff = f" {log(alpha2[(a, b)])}" if (a, b) in alpha2 else ""
        lines.append(f"{log(prob)} {a} {b}{backoff}")
    lines += ["", "\\3-grams:"]
    lines += [f"{log(prob)} {a} {b} {c}" for (a, b, c), prob in p3.items()]
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
