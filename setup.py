"""Only the optional C accelerator lives here; the project's metadata is in pyproject.toml.

`optional=True`: where no C compiler is available the install still succeeds and
analysis/der.py uses its pure-Python reader (the same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("analysis._cder", ["analysis/_cder.c"], optional=True)])
