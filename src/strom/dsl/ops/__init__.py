"""The processors the DSL compiles into: one family per module."""
