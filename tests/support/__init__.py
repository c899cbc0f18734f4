"""Stand-in Spaces, misbehaving servers, kernels and Jupyter: the real parts the tests run against."""
