"""Defaults of the exports that the command line shows without loading the exporters."""

# the Kubernetes Jobs' container image when `--image` is not given
DEFAULT_IMAGE = "busybox:1.36"
