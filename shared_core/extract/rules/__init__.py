"""The offline default extractor: first-person English statements, matched by rules.

From each turn it reads statements of identity and facts ("my name is", "I live in", "I work at",
"my sister Anna", "I have two kids"), preferences ("I love", "I can't stand", "my favourite X
is"), plans and commitments ("I will", "I'm going to", "remind me to") and events ("I went
to", "we had a ...", "last weekend I ..."). Every candidate's subject is the speaker (its
lowercased name, else "user"); its text is rewritten in the third person with the speaker's
name ("Caroline lives in Berlin") and relative times are replaced by absolute ones resolved
against the turn's timestamp ("Melanie went camping on the weekend of 10 June 2023").

Skipped on purpose: questions ("do you like ...?"), conditionals ("if I ...") and modal or
hedged clauses ("I might", "I would love to", "maybe"), filler ("I'll let you know"), and
statements about other people. Negation that flips a fact ("I don't live in Paris anymore",
"I quit my job") gives a candidate with `negated=True` (see `extract/base.py`).

Which turns are read: `user` turns, and any turn that names its speaker (multi-party human
conversations). Assistant turns without a speaker name, system and tool turns are ignored.
The rules are general English, not tuned to any data set.

Layout: `lexicon` (word lists), `text` (normalisation, phrase helpers), `hits` (`Rule`, what a
rule sees and returns), one module per domain (`facts`, `family`, `preferences`, `plans`,
`identity`, `events`, `possessive`), each ending with its `RULES`; `registry` collects them;
`negation` dispatches a clause; `pipeline` turns turns into candidates. To add a rule: a small
module here with a matcher and a `RULES = (Rule(name, stage, order, matcher),)` line, and a row
in `RULE_EXAMPLES` of `tests/unit/test_rules.py` (plus labelled items for new kinds of sentences).
"""

from shared_core.extract.rules.pipeline import RuleExtractor
from shared_core.extract.rules.text import split_sentences

__all__ = ["RuleExtractor", "split_sentences"]
