"""Data sources: Omniglot (locate, download, verify, decode, cache), protocols, sinusoid and glyphs."""
