##############################################################################
#
# Copyright (c) 2026 Zope Foundation and Contributors.
# All Rights Reserved.
#
# This software is subject to the provisions of the Zope Public License,
# Version 2.1 (ZPL).  A copy of the ZPL should accompany this distribution.
# THIS SOFTWARE IS PROVIDED "AS IS" AND ANY AND ALL EXPRESS OR IMPLIED
# WARRANTIES ARE DISCLAIMED, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
# WARRANTIES OF TITLE, MERCHANTABILITY, AGAINST INFRINGEMENT, AND FITNESS
# FOR A PARTICULAR PURPOSE.
#
##############################################################################
"""A worker process's heap: glibc's mmap threshold fixed, so that RSS
stays flat over months of jobs.

glibc's malloc raises its mmap threshold each time a block it had mapped
is freed (up to 32 MB).  Later blocks that large (the table of a ZODB
connection cache's dict, megabytes, which grows and shrinks with the
ghosts it holds) then come from the heap, whose free space grows with
the jobs: 1.36 times the warm RSS after 500,000 jobs, against 1.04 with
the threshold fixed (``benchmarks/bench_soak.py``).
"""
import ctypes
import ctypes.util
import os


#: glibc's ``M_MMAP_THRESHOLD`` option of ``mallopt()``.
M_MMAP_THRESHOLD = -3

#: The threshold the worker fixes: glibc's default start value.
THRESHOLD = 128 * 1024

#: The variable of the environment with which glibc fixes it too; set,
#: it is left alone.
VARIABLE = 'MALLOC_MMAP_THRESHOLD_'


def fixMmapThreshold():
    """Fix glibc's mmap threshold in this process, unless the environment
    sets it; return True if this call fixed it.  Elsewhere (another C
    library, another system) do nothing."""
    if VARIABLE in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, THRESHOLD) == 1
