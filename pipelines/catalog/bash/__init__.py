"""A reader of bash preset scripts: lexer, parser, word expansion, and a walker that runs nothing."""

__all__ = ["conditions", "interpret", "lexer", "parser", "words"]
