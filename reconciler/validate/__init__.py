"""Checks of the declared state beyond what each file's model enforces."""
