"""The local backend: diffusers FLUX pipelines on this machine's GPU (extra ``[local]``)."""
