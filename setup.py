"""Build glue: setuptools needs setup() to take cffi_modules.

Everything else is declared in pyproject.toml.  The builder lives in
python/ffibuild/, outside the importable package.
"""

from setuptools import setup

setup(cffi_modules=["python/ffibuild/build_core.py:ffibuilder"])
