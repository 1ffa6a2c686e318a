"""Extraction: turning conversation turns into candidate memories.

`base` is the port (`ExtractInput` in, `Candidate` out, the `Extractor` protocol); `rules` is the
offline default (`RuleExtractor`); `llm` asks a model through a plain chat callable
(`LLMExtractor`); `dates` finds and resolves time expressions for both.
"""

from shared_core.extract.base import Candidate, ExtractInput, Extractor

__all__ = ["Candidate", "ExtractInput", "Extractor"]
