#!/usr/bin/env python3
"""Compile cost of statiq-import's generated headers: wall time, peak compiler memory and binary size of a
program that includes one generated header and runs it, for g++ and clang++ at -O2, for the Fashion-MNIST CNN
(~0.1 M parameters) and a ~3 M-parameter CNN (made with torch by tests/import/make_3m_model.py), with embedded
weights and with --weights external, and for the QDQ Fashion-MNIST CNN, whose int8 model the compiler quantizes
(statiq::quantize_with_params in a constant expression). Each program's output is checked against PyTorch's
(float) or the numpy QDQ reference (int8); the last column is the compile time over the embedded float
Fashion-MNIST model's with the same compiler.
Not a test (minutes): cmake --build B --target bench_import_compile_cost, or meson's run target of that name.
Usage: import_compile_cost.py --importer PATH --source-dir DIR --work DIR [--cxx g++ clang++] [--opt -O2]"""
import argparse
import os
import re
import subprocess
import sys
import time

MAIN = r'''
#include "%(header)s"
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>
static std::vector<float> load(const char* p) {
  std::ifstream f(p, std::ios::binary | std::ios::ate);
  std::vector<float> v(static_cast<std::size_t>(f.tellg()) / 4);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}
int main(int argc, char** argv) {
  (void)argc;
  const auto x = load(argv[1]);
  const auto want = load(argv[2]);
%(model)s
  std::vector<float> y(want.size());
  auto arena = std::make_unique<statiq::arena_for<decltype(model)>>();
  if (statiq::run(model, std::span<const float>(x), std::span<float>(y), *arena) != statiq::status::ok) return 2;
  double d = 0;
  for (std::size_t i = 0; i < y.size(); ++i) d = std::fmax(d, std::fabs(double(y[i]) - want[i]));
  std::printf("%%.3g\n", d);
  return 0;
}
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--importer", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cxx", nargs="+", default=["g++", "clang++"])
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--repeat", type=int, default=1, help="compile each program this often, report the fastest")
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    if not os.path.exists(os.path.join(work, "cnn3m.onnx")):
        subprocess.run([args.python, os.path.join(src, "tests", "import", "make_3m_model.py"), work], check=True)
    fm = os.path.join(src, "tests", "data", "fmnist")
    # fmnist inputs: the first 100 test images, and PyTorch's logits for them.
    import gzip
    raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:16 + 100 * 784]
    import array
    xs = array.array("f", [(b / 255.0 - 0.2860) / 0.3530 for b in raw])
    with open(os.path.join(work, "fmnist_input.f32"), "wb") as f:
        xs.tofile(f)
    with open(os.path.join(fm, "fmnist_cnn_logits.f32"), "rb") as f, open(os.path.join(work, "fmnist_output.f32"), "wb") as g:
        g.write(f.read(100 * 10 * 4))
    with open(os.path.join(work, "fmnist_input.f32"), "rb") as f, open(os.path.join(work, "fmnist_qdq_input.f32"), "wb") as g:
        g.write(f.read())
    with open(os.path.join(fm, "fmnist_cnn_qdq_logits.f32"), "rb") as f, open(os.path.join(work, "fmnist_qdq_output.f32"), "wb") as g:
        g.write(f.read(100 * 10 * 4))

    cases = [
        ("fmnist (0.1 M, embedded)", os.path.join(fm, "fmnist_cnn.onnx"), "fmnist", False),
        ("fmnist (0.1 M, external)", os.path.join(fm, "fmnist_cnn.onnx"), "fmnist", True),
        ("cnn3m (2.9 M, embedded)", os.path.join(work, "cnn3m.onnx"), "cnn3m", False),
        ("cnn3m (2.9 M, external)", os.path.join(work, "cnn3m.onnx"), "cnn3m", True),
        ("fmnist QDQ (int8, constexpr)", os.path.join(fm, "fmnist_cnn_qdq.onnx"), "fmnist_qdq", False),
    ]
    rows = []
    for label, onnx_path, stem, ext in cases:
        ns = stem + ("_ext" if ext else "")
        hdr = os.path.join(work, ns + ".hpp")
        t0 = time.time()
        subprocess.run([args.importer, onnx_path, "--name", ns, "-o", hdr] + (["--weights", "external"] if ext else []),
                       check=True)
        t_import = time.time() - t0
        model = ("  const auto blob = load(\"%s\");\n  const auto model = %s::make_model(std::span<const float, %s::weight_count>(blob.data(), blob.size()));"
                 % (os.path.join(work, ns + ".bin"), ns, ns)) if ext else "  const auto& model = %s::model;" % ns
        cpp = os.path.join(work, ns + "_main.cpp")
        with open(cpp, "w") as f:
            f.write(MAIN % {"header": hdr, "model": model})
        for cxx in args.cxx:
            exe = os.path.join(work, "%s_%s" % (ns, re.sub(r"\W", "", cxx)))
            # A fresh Python parent per compile, so that its children's peak RSS is this compile's alone.
            probe = ("import resource, subprocess, sys, time; t = time.time(); r = subprocess.run(sys.argv[1:]); "
                     "print(time.time() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
            secs = rss = float("inf")
            for _ in range(args.repeat):
                steps = ["-fconstexpr-steps=2147483647"] if "clang" in os.path.basename(cxx) else []
                r = subprocess.run([sys.executable, "-c", probe, cxx, "-std=c++20", args.opt] + steps + [
                                    "-I" + os.path.join(src, "include"), cpp, "-o", exe],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                secs_s, rss_kb, rc = r.stdout.split()
                secs, rss = min(secs, float(secs_s)), min(rss, int(rss_kb) / 1024.0)
                r.returncode = int(rc)
                if r.returncode:
                    break
            if r.returncode:
                rows.append((label, cxx, secs, rss, 0, 0, "compile failed: " + r.stderr[:300]))
                continue
            size = os.path.getsize(exe)
            stripped = exe + ".stripped"
            subprocess.run(["strip", "-o", stripped, exe], check=True)
            ssize = os.path.getsize(stripped)
            out = subprocess.run([exe, os.path.join(work, stem + "_input.f32"), os.path.join(work, stem + "_output.f32")],
                                 stdout=subprocess.PIPE, text=True)
            ref = "numpy QDQ reference" if "qdq" in stem else "PyTorch"
            rows.append((label, cxx, secs, rss, size, ssize, "max |diff| vs %s %s" % (ref, out.stdout.strip())))
        print("%s: header %.1f MB, import %.1f s" % (label, os.path.getsize(hdr) / 1e6, t_import), flush=True)
    base = {cxx: secs for label, cxx, secs, *_ in rows if label.startswith("fmnist (0.1 M, embedded)")}
    print("\n%-30s %-9s %9s %12s %12s %12s %8s  %s" % ("model", "compiler", "compile s", "peak RSS MB", "binary KB",
                                                       "stripped KB", "ratio", "check"))
    for label, cxx, secs, rss, size, ssize, note in rows:
        ratio = secs / base[cxx] if base.get(cxx) else float("nan")
        print("%-30s %-9s %9.1f %12.0f %12.0f %12.0f %8.2f  %s" % (label, cxx, secs, rss, size / 1024, ssize / 1024,
                                                                  ratio, note))
    print("peak RSS: the largest process of the compile (cc1plus / clang)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
