"""Kernel variants (CMakeLists.txt, cpp/src/simd_dispatch.cpp): what build_info() reports, SOCIALREC_SIMD's
errors, the variants' agreement on the top-n scan, and that no AVX instruction leaked out of the variants'
own code into what a baseline CPU runs (the module must load and run on any x86-64 CPU)."""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from socialrec import _core

INFO = _core.build_info
X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def _python(code, env=None):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_build_info_names_the_chosen_compiled_and_supported_variants():
    assert INFO["simd"] in INFO["simd_supported"]
    assert set(INFO["simd_supported"]) <= set(INFO["simd_variants"])
    # The choice is the widest the CPU supports (variants are listed narrowest first).
    if not os.environ.get("SOCIALREC_SIMD"):
        assert INFO["simd"] == INFO["simd_supported"][-1]
    if "baseline" in INFO["simd_variants"]:
        assert "baseline" in INFO["simd_supported"]  # every CPU of the architecture runs it


@pytest.mark.parametrize("value", ["sse9", "AVX2", "generic"])
def test_unknown_simd_value_fails_at_import_naming_the_valid_values(value):
    proc = _python("import socialrec", env={"SOCIALREC_SIMD": value})
    assert proc.returncode != 0
    assert f"SOCIALREC_SIMD={value} names no kernel variant" in proc.stderr
    assert "valid values here: " + ", ".join(INFO["simd_supported"]) in proc.stderr


def test_variant_the_cpu_cannot_run_is_refused_naming_the_valid_values():
    unsupported = [v for v in INFO["simd_variants"] if v not in INFO["simd_supported"]]
    if not unsupported:
        pytest.skip("this CPU runs every compiled variant")
    proc = _python("import socialrec", env={"SOCIALREC_SIMD": unsupported[-1]})
    assert proc.returncode != 0
    assert f"this CPU cannot run the {unsupported[-1]} kernels" in proc.stderr
    assert "valid values here: " + ", ".join(INFO["simd_supported"]) in proc.stderr


@pytest.mark.skipif(len(INFO["simd_supported"]) < 2, reason="this CPU runs only one compiled variant")
def test_variants_select_the_same_top_n(tmp_path):
    # The scan's vector compare differs per variant (SSE2, AVX2, scalar); the lists must not. Ties and -inf
    # scores included: rounded scores make many ties, and a masked column must never qualify.
    code = """
        import os, numpy as np, socialrec as sr
        from socialrec import _core
        rng = np.random.default_rng(5)
        for dtype in (np.float32, np.float64):
            scores = np.round(rng.normal(size=(40, 301)), 1).astype(dtype)
            scores[:, ::7] = -np.inf
            offset = np.round(rng.normal(size=301), 1).astype(dtype)
            ids = np.empty((40, 12), np.int64)
            best = np.empty((40, 12), dtype)
            _core.topk_select(scores, 12, item_offset=offset, best_ids=ids, best_scores=best)
            np.save(os.environ["OUT"] + "_" + np.dtype(dtype).name + ".npy", ids)
        print(sr.build_info()["simd"])
    """
    lists = {}
    for variant in INFO["simd_supported"]:
        out = str(tmp_path / variant)
        proc = _python(code, env={"SOCIALREC_SIMD": variant, "OUT": out})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == variant
        lists[variant] = [np.load(f"{out}_{d}.npy") for d in ("float32", "float64")]
    first = next(iter(lists.values()))
    for other in lists.values():
        for a, b in zip(first, other):
            np.testing.assert_array_equal(a, b)


# VEX/EVEX-encoded instructions (AVX and later) name a ymm/zmm/mask register or start with "v" (vmovss,
# vfmadd231ps, ...). The variants' own code lives in the namespaces socialrec::isa_avx2 / isa_avx512
# (socialrec/isa.hpp) or is an instantiation over their types; other functions (the standard library's
# templates, say) may also be emitted by an AVX variant's objects only, which is harmless as long as only AVX
# code calls them: a baseline caller emits its own baseline copy, and the link order keeps it (CMakeLists.txt).
# The leak to catch is an AVX instruction that code outside the AVX variants can reach by direct calls/jumps.
_AVX_OPERAND = re.compile(r"%[yz]mm\d+|%k[0-7]\b")
_VARIANT_CODE = re.compile(r"isa_avx2|isa_avx512|kernel_table_avx")
_CALL = re.compile(r"^(?:call|jmp|j[a-z]+)\s+([0-9a-f]+) <(.+)>\s*$")


def _avx_reachable_from_baseline(disassembly):
    """{function: first AVX instruction} for the AVX-using functions that code outside the AVX variants may run.

    Functions are told apart by address: a TU-local function (a `.constprop` clone, say) has the same name in
    every object that made one. Calls through pointers are not followed: a function only ever called that
    way counts as an entry point."""
    names, avx, calls, current = {}, {}, {}, None
    for line in disassembly.splitlines():
        header = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if header:
            current = int(header.group(1), 16)
            names[current] = header.group(2)
            calls[current] = set()
            continue
        parts = line.split("\t")
        if current is None or len(parts) < 2:
            continue
        instruction = parts[1].strip()
        if instruction.startswith("v") or _AVX_OPERAND.search(instruction):
            avx.setdefault(current, instruction)
        target = _CALL.match(instruction)
        if target:
            calls[current].add((int(target.group(1), 16), target.group(2)))
    by_name = {}
    for address, name in names.items():
        by_name.setdefault(name.split("@")[0], []).append(address)
    callers = {}
    for caller, targets in calls.items():
        for address, label in targets:
            if "@plt" in label:  # an exported function, called through the PLT: every definition of that name
                callees = [a for a in by_name.get(label.split("@")[0], []) if "@plt" not in names[a]]
            else:
                callees = [address] if address in names and address != caller else []
            for callee in callees:
                callers.setdefault(callee, set()).add(caller)
    # Variant-private: called directly, and only by AVX-variant code or other variant-private functions (the
    # largest such set). Everything else outside the variants may run on a baseline CPU: functions that
    # baseline code calls, and those with no direct caller (entry points, reached through pointers).
    outside = {a for a, name in names.items() if not _VARIANT_CODE.search(name)}
    private = {a for a in outside if callers.get(a)}
    changed = True
    while changed:
        changed = False
        for a in list(private):
            if any(c in outside and c not in private for c in callers[a]):
                private.discard(a)
                changed = True
    return {names[a]: avx[a] for a in outside - private if a in avx}


@pytest.mark.skipif(not (X86_64 and sys.platform.startswith("linux")), reason="x86-64 ELF check")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
@pytest.mark.skipif("baseline" not in INFO["simd_variants"], reason="build without the baseline variant")
def test_no_avx_instruction_outside_the_avx_variants():
    # Needs the symbol table: a stripped module (pybind11 strips Release builds) labels only its exported
    # functions, so code would be attributed to the wrong function. SOCIALREC_CHECK_MODULE names an
    # unstripped copy (docs/WHEELS.md: relink without the strip step).
    path = os.environ.get("SOCIALREC_CHECK_MODULE") or _core.__file__
    if "no symbols" in subprocess.run(["objdump", "-t", path], capture_output=True, text=True).stdout[:2000]:
        pytest.skip(f"{path} is stripped (set SOCIALREC_CHECK_MODULE to an unstripped build of _core)")
    dis = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", path], capture_output=True, text=True,
                         check=True).stdout
    assert "isa_avx2" in dis or "avx2" not in INFO["simd_variants"]  # the filter recognises the variant code
    offenders = _avx_reachable_from_baseline(dis)
    assert not offenders, f"AVX code a baseline CPU would run, in {len(offenders)} functions: " + "; ".join(
        f"{f[:120]}: {i}" for f, i in list(offenders.items())[:5])


def test_avx_check_sees_a_leaked_instruction():
    # The checker itself: an AVX function called by baseline code, or an entry point with AVX, is reported;
    # one that only AVX-variant code calls, or the variant's own code, is not.
    dis = ("0000000000001000 <std::vector<int>::push_back(int const&)>:\n"
           "    1000:\tvmovdqu %ymm0,(%rdi)\n"
           "0000000000002000 <socialrec::isa_avx2::bpr_epoch<float>(...)>:\n"
           "    2000:\tvfmadd231ps %ymm1,%ymm2,%ymm3\n"
           "    2004:\tcall   4000 <std::vector<float>::vector(unsigned long)>\n"
           "0000000000003000 <socialrec::bind::kernels()>:\n"
           "    3000:\tmovaps %xmm0,%xmm1\n"
           "    3004:\tcall   1000 <std::vector<int>::push_back(int const&)>\n"
           "0000000000004000 <std::vector<float>::vector(unsigned long)>:\n"
           "    4000:\tvpxor  %xmm0,%xmm0,%xmm0\n"
           "0000000000005000 <PyInit__core>:\n"
           "    5000:\tvzeroupper\n")
    assert sorted(_avx_reachable_from_baseline(dis)) == ["PyInit__core", "std::vector<int>::push_back(int const&)"]
