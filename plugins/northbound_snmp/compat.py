"""Imports pysnmp's MIB-object layer once, quietly.

pysnmp 7.1 calls pysmi's old camelCase API when pysmi is installed (it is, for compiling
MIBs), and pysmi answers with a DeprecationWarning at import time that says nothing to our
users. Everything in this plugin that reaches ``pysnmp.smi.rfc1902`` imports this first.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pysnmp\.smi\.compiler")
    warnings.filterwarnings("ignore", message=r".*is deprecated\. Please use", category=DeprecationWarning)
    import pysnmp.smi.rfc1902  # noqa: F401
