"""Importers: read another platform's use-case folders into this repository format."""
