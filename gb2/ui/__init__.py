"""Shared command-line helpers: error reporting, prompts, tables, JSON and progress."""
