"""Search: the scope index kept in memory (dense vectors + incremental BM25), the lexical analyser
(tokenizer, Porter2 stemmer) and scoring (the one place distances become scores). Pure of I/O:
the engine's search pipeline (`engine/search.py`) feeds it records read through the store port."""
