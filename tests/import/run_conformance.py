#!/usr/bin/env python3
"""ONNX conformance for statiq-import: imports every ONNX backend node test whose operators statiq-import maps
(Debian's libonnx-testdata), compiles all generated headers in a few translation units, runs them on
test_data_set_0 and prints a table: operator, tests passed / total, and why each other test was skipped or failed.

Needs only the statiq-import binary, a C++20 compiler and libonnx-dev/protobuf (no Python packages)."""
import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys
import time

# The operators issue-level support covers: float, and quantized (int8 models with the source's scales).
FLOAT_OPS = {"Conv", "Gemm", "MatMul", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean",
             "Add", "Concat", "Flatten", "Reshape", "BatchNormalization", "Constant", "Identity", "Dropout", "Softmax"}
QUANT_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger"}
QUANT_NOTE = ("Quantized tests (marked q): graph inputs after the first (scales, zero points, weights: test data of "
              "test_data_set_0) are bound as constants with --constant-input; a u8/s8 first input is fed dequantized, "
              "(q - zero_point) * scale, which the model quantizes back exactly; u8/s8 outputs are requantized with the "
              "model's output quantization and must agree within 1 LSB; int32 outputs (ConvInteger, MatMulInteger) "
              "exactly; float outputs of int8 models (PyTorch QAT export) within one output step (1 LSB).")


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--importer", required=True)
    ap.add_argument("--source-dir", required=True, help="statiq's source tree (include/, tests/import/, tools/)")
    ap.add_argument("--testdata", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--work", required=True, help="scratch directory for generated headers and binaries")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "c++"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--opt", default="-O1")
    ap.add_argument("--ldflags", default="", help="extra link flags")
    ap.add_argument("--torch-models", action="store_true",
                    help="also export make_torch_models.py's PyTorch models (needs --python with torch and onnx)")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with torch and onnx, for --torch-models")
    args = ap.parse_args()
    t0 = time.time()
    src = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work)
    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)

    roots = [args.testdata]
    torch_note = ""
    if args.torch_models:
        tdir = os.path.join(work, "torch_models")
        r = sh([args.python, os.path.join(src, "tests", "import", "make_torch_models.py"), tdir])
        if r.returncode == 0:
            roots.append(tdir)
        else:
            torch_note = "PyTorch-exported models not generated (%s): %s" % (args.python, r.stderr.strip()[-300:])
    tests = []
    test_dir = {}
    for root in roots:
        for d in sorted(os.listdir(root)):
            if d.startswith("test_") and os.path.isfile(os.path.join(root, d, "model.onnx")):
                tests.append(d)
                test_dir[d] = os.path.join(root, d)
    torch_tests = set(t for t in tests if t.startswith("test_torch_"))
    rows = collections.OrderedDict()  # test -> (operator, status, detail)
    to_import = []
    not_listed = 0
    for t in tests:
        model = os.path.join(test_dir[t], "model.onnx")
        r = sh([args.importer, "--print-ops", model])
        ops = set(r.stdout.split()) if r.returncode == 0 else set()
        if t in torch_tests:
            to_import.append((t, "PyTorch export: " + t[len("test_torch_"):]))
            continue
        if not ops or not ops <= (FLOAT_OPS | QUANT_OPS):
            not_listed += 1
            continue
        main_ops = sorted(ops - {"Constant"}) or ["Constant"]
        op = "+".join(main_ops)
        if ops & QUANT_OPS:
            op += " (q)"
        to_import.append((t, op))

    def do_import(item):
        t, op = item
        d = test_dir[t]
        extra = []
        k = 1
        while os.path.isfile(os.path.join(d, "test_data_set_0", f"input_{k}.pb")):
            extra += ["--constant-input", os.path.join(d, "test_data_set_0", f"input_{k}.pb")]
            k += 1
        out = os.path.join(gen, t + ".hpp")
        if os.path.exists(out):
            os.remove(out)
        layout = [] if t in torch_tests else ["--layout", "nchw"]  # PyTorch models: the source's own layout
        r = sh([args.importer, os.path.join(d, "model.onnx"), "--name", t, "-o", out] + layout + extra)
        if r.returncode != 0:
            msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit code {r.returncode}"
            msg = re.sub(r"^statiq-import: [^:]*: ", "", msg)
            return t, op, msg
        return t, op, None

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        imported = []
        for t, op, err in ex.map(do_import, to_import):
            if err:
                rows[t] = (op, "skip", err)
            else:
                rows[t] = (op, "pending", "")
                imported.append(t)

    # Quantized models are quantized by the compiler (constexpr): clang needs its step limit raised.
    steps = ["-fconstexpr-steps=2147483647"] if "clang" in os.path.basename(args.cxx) else []
    cxx = [args.cxx, "-std=c++20", args.opt, "-w", "-DONNX_ML=1", "-DONNX_NAMESPACE=onnx"] + steps + [
           "-I" + os.path.join(src, "include"), "-I" + os.path.join(src, "tools", "statiq-import"),
           "-I" + os.path.join(src, "tests", "import"), "-I" + gen]

    def write_shard(name, members):
        path = os.path.join(work, name + ".cpp")
        with open(path, "w") as f:
            f.write("// generated by run_conformance.py\n#include \"conformance_runner.hpp\"\n")
            for t in members:
                f.write(f'#include "{t}.hpp"\n')
            f.write(f"namespace conformance {{\nextern const entry {name}[];\nconst entry {name}[] = {{\n")
            for t in members:
                f.write(f'  {{"{t}", [](const std::vector<float>& in, std::vector<float>& out) {{ return run({t}::model, '
                        f'{t}::source_output_shape, {t}::output_channels_last, in, out); }}, '
                        f'{{{t}::input_is_quantized, {t}::input_quant, {t}::output_is_quantized, {t}::output_quant, '
                        f'{t}::output_is_integer, conformance::output_lsb({t}::model)}}}},\n')
            f.write("  {nullptr, nullptr, {}}};\n}\n")
        return path

    def compile_obj(name, members):
        path = write_shard(name, members)
        r = sh(cxx + ["-c", path, "-o", os.path.join(work, name + ".o")])
        return r.returncode == 0, r.stderr

    # Compile in shards; a shard that does not compile is bisected to find the headers that do not.
    objs = []  # (name, members)
    n = max(1, min(args.shards, len(imported)))
    work_items = [("shard%d" % k, imported[k::n]) for k in range(n)]
    counter = [0]

    def build(item):
        name, members = item
        ok, err = compile_obj(name, members)
        return name, members, ok, err

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        pending = [ex.submit(build, w) for w in work_items if w[1]]
        while pending:
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                pending.remove(fut)
                name, members, ok, err = fut.result()
                if ok:
                    objs.append((name, members))
                elif len(members) == 1:
                    first = next((l for l in err.splitlines() if "error" in l), err.strip()[:200])
                    first = re.sub(r"^.*?error: ", "", first)
                    rows[members[0]] = (rows[members[0]][0], "fail", "generated header does not compile: " + first[:300])
                else:
                    half = len(members) // 2
                    for part in (members[:half], members[half:]):
                        counter[0] += 1
                        pending.append(ex.submit(build, ("part%d" % counter[0], part)))

    main_obj = os.path.join(work, "conformance_main.o")
    reg = os.path.join(work, "registry.cpp")
    with open(reg, "w") as f:
        f.write('#include "conformance_runner.hpp"\n#include <vector>\nnamespace conformance {\n')
        for name, _ in objs:
            f.write(f"extern const entry {name}[];\n")
        f.write("static std::vector<entry> collect() {\n  std::vector<entry> v;\n")
        for name, _ in objs:
            f.write(f"  for (const entry* e = {name}; e->name; ++e) v.push_back(*e);\n")
        f.write("  return v;\n}\nstatic const std::vector<entry> entries = collect();\n"
                "extern const entry* const all_entries = entries.data();\n"
                "extern const std::size_t all_entries_size = entries.size();\n}\n")
    r1 = sh(cxx + ["-c", os.path.join(src, "tests", "import", "conformance_main.cpp"), "-o", main_obj])
    r2 = sh(cxx + ["-c", reg, "-o", os.path.join(work, "registry.o")])
    if r1.returncode or r2.returncode:
        print(r1.stderr + r2.stderr, file=sys.stderr)
        return 2
    exe = os.path.join(work, "conformance")
    r = sh(cxx + [main_obj, os.path.join(work, "registry.o")] + [os.path.join(work, n + ".o") for n, _ in objs] +
           ["-o", exe, "-lonnx_proto", "-lprotobuf", "-lhwy", "-lpthread"] + args.ldflags.split())
    if r.returncode:
        print(r.stderr, file=sys.stderr)
        return 2
    r = sh([exe] + roots)
    for line in r.stdout.splitlines():
        m = re.match(r"RESULT (\S+) (pass|fail) ?(.*)", line)
        if m:
            rows[m.group(1)] = (rows[m.group(1)][0], m.group(2), m.group(3))
    for t, (op, st, d) in rows.items():
        if st == "pending":
            rows[t] = (op, "fail", "did not run (runner crashed?) " + r.stderr.strip()[-200:])

    # Table.
    per_op = collections.OrderedDict()
    for t, (op, st, d) in sorted(rows.items(), key=lambda kv: (kv[1][0].startswith("PyTorch"), kv[1][0], kv[0])):
        per_op.setdefault(op, []).append((t, st, d))
    print("\nONNX node tests (%s), statiq-import, rtol 1e-3 atol 1e-7 (ONNX backend defaults)\n" % args.testdata)
    print("%-36s %8s %8s %8s" % ("operator", "passed", "total", "skipped"))
    tp = tt = ts = tf = 0
    for op, items in per_op.items():
        p = sum(1 for _, s, _ in items if s == "pass")
        s = sum(1 for _, st, _ in items if st == "skip")
        f = sum(1 for _, st, _ in items if st == "fail")
        tp, tt, ts, tf = tp + p, tt + len(items), ts + s, tf + f
        print("%-36s %8d %8d %8d%s" % (op, p, len(items), s, "   FAILED: %d" % f if f else ""))
    print("%-36s %8d %8d %8d" % ("all", tp, tt, ts))
    print("\nskipped (not imported) and failed tests:")
    for op, items in per_op.items():
        for t, st, d in items:
            if st != "pass":
                print("  %-4s %-52s %s" % (st, t, d))
    print("\n%d other node tests use operators outside statiq-import's list and are not counted." % not_listed)
    print(QUANT_NOTE)
    if torch_note:
        print(torch_note)
    print("passed %d, failed %d, skipped %d of %d tests in %.0f s" % (tp, tf, ts, tt, time.time() - t0))
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main())
