"""Third-party peers for the benchmarks. Each module is imported only when its system is chosen and
exposes `make(embedder) -> (factory, config)`; none of them is a dependency of the library."""
