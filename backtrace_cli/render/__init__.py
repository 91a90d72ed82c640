"""Renderers: each turns a `Trace` into a renderable or a string. None prints or computes."""
