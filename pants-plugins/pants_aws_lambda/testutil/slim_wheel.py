"""A wheel for slim mode's tests, compiled at test time: `tinyslim`, with two extension modules.

`tinyslim/_plain.so` is an ordinary extension module with debug information, which stripping
shrinks. `tinyslim/_checked.so` reads its own file when it is imported and raises ImportError
when the file has no symbol table (`.symtab`), which `strip --strip-unneeded` removes: the case of
a shared object that no longer loads once stripped. The wheel also ships what slim mode leaves
out (a `tests` package, a stub, a C source, a Cython declaration) and a `py.typed` marker.

The C source needs no Python headers: it declares the few functions and the module definition of
CPython's stable ABI it uses, so one source builds for every CPython 3.8+ and, with a cross
compiler, for arm64.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pants_aws_lambda.testutil.wheels import write_wheel

_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPython's stable ABI: the module definition (PyModuleDef) and three functions. */
typedef struct { long refcnt; void *type; void *(*init)(void); long index; void *copy; } Base;
typedef struct {
    Base base; const char *name; const char *doc; long size;
    void *methods; void *slots; void *traverse; void *clear; void *free;
} Def;
extern void *PyModuleDef_Init(Def *);
extern void PyErr_SetString(void *, const char *);
extern void *PyExc_ImportError;

static Def definition = {{1, 0, 0, 0, 0}, MODULE_NAME, 0, 0, 0, 0, 0, 0, 0};

/* Whether this shared object's own file still has a symbol table. */
static int has_symbol_table(void) {
    Dl_info info;
    if (!dladdr((void *)&has_symbol_table, &info) || !info.dli_fname) return 0;
    FILE *f = fopen(info.dli_fname, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(size);
    int found = 0;
    if (data && fread(data, 1, size, f) == (size_t)size && size >= (long)sizeof(Elf64_Ehdr)) {
        Elf64_Ehdr *eh = (Elf64_Ehdr *)data;
        Elf64_Shdr *sh = (Elf64_Shdr *)(data + eh->e_shoff);
        const char *names = (const char *)(data + sh[eh->e_shstrndx].sh_offset);
        for (int i = 0; i < eh->e_shnum; i++) {
            if (strcmp(names + sh[i].sh_name, ".symtab") == 0) found = 1;
        }
    }
    free(data);
    fclose(f);
    return found;
}

void *INIT_FUNCTION(void) {
    if (CHECK_SYMBOLS && !has_symbol_table()) {
        PyErr_SetString(PyExc_ImportError, "tinyslim: my symbol table was stripped");
        return 0;
    }
    return PyModuleDef_Init(&definition);
}
"""

COMPILERS = {"x86_64": "gcc", "arm64": "aarch64-linux-gnu-gcc"}
TAGS = {"x86_64": "py3-none-manylinux_2_17_x86_64", "arm64": "py3-none-manylinux_2_17_aarch64"}
NAME = "tinyslim"
VERSION = "1.0"


def wheel_name(architecture: str) -> str:
    return f"{NAME}-{VERSION}-{TAGS[architecture]}.whl"


def compiler(architecture: str) -> str | None:
    return shutil.which(COMPILERS[architecture])


def _compile(cc: str, work: Path, module: str, check: bool) -> bytes:
    source = work / "tinyslim.c"
    source.write_text(_SOURCE)
    out = work / f"{module}.so"
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-g",
            "-O1",
            f'-DMODULE_NAME="tinyslim.{module}"',
            f"-DINIT_FUNCTION=PyInit_{module}",
            f"-DCHECK_SYMBOLS={1 if check else 0}",
            "-o",
            str(out),
            str(source),
            "-ldl",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out.read_bytes()


def build(directory: Path, work: Path, architecture: str) -> dict[str, bytes]:
    """Build the wheel for `architecture` into `directory`; return its package files by path."""
    cc = compiler(architecture)
    assert cc is not None, f"no {COMPILERS[architecture]}"
    work.mkdir(parents=True, exist_ok=True)
    files = {
        "tinyslim/__init__.py": b"from tinyslim import _checked, _plain\n",
        "tinyslim/__init__.pyi": b"def answer() -> int: ...\n",
        "tinyslim/py.typed": b"",
        "tinyslim/_checked.so": _compile(cc, work, "_checked", check=True),
        "tinyslim/_plain.so": _compile(cc, work, "_plain", check=False),
        "tinyslim/src/tinyslim.c": _SOURCE.encode(),
        "tinyslim/tinyslim.pxd": b"cdef int answer()\n",
        "tinyslim/tests/__init__.py": b"",
        "tinyslim/tests/test_tinyslim.py": b"import pytest\n\ndef test_it():\n    assert True\n",
    }
    write_wheel(directory, NAME, VERSION, TAGS[architecture], files)
    return files
