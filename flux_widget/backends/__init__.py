"""Backends: where images come from (the Space, Inference Providers, this machine's GPU), one registry."""
