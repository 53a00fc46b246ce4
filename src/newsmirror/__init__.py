"""newsmirror: a readable, shareable mirror of news sites."""

__version__ = "0.1.0"
