#!/usr/bin/python3
"""Prints the model comparison table from the three JSON results of tools/bench/model_compare.sh.

Usage: report.py STATIQ.json ORT.json TORCH.json [--out COMBINED.json] [--machine TEXT]
  STATIQ.json: Google Benchmark's --benchmark_out (json) of statiq_model_bench --benchmark_filter=fmnist/
               with repetitions (the median aggregates are used; without repetitions, the single run);
  ORT.json:    bench/model_compare/ort_bench.js's output;  TORCH.json: torch_bench.py's output.
Per-image figures: the median repetition's CPU time (us), the best repetition's in [ ], the median's
wall-clock time in ( ). On a loaded machine the best repetition is the least disturbed one.
"""
import argparse
import json
import re

BATCHES = (1, 64)


def statiq_rows(path):
    d = json.load(open(path))
    runs, best = {}, {}
    for b in d["benchmarks"]:
        m0 = re.match(r"BM_Model_statiq_(f32|int8)/fmnist/batch:(\d+)", b.get("run_name", b["name"]))
        if m0 and b.get("run_type") != "aggregate" and not b.get("error_occurred"):
            scale0 = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
            k0, n0 = (m0.group(1), int(m0.group(2))), int(m0.group(2))
            cur = best.get(k0)
            v0 = (b["cpu_time"] * scale0 / n0, b["real_time"] * scale0 / n0)
            best[k0] = v0 if cur is None else (min(cur[0], v0[0]), min(cur[1], v0[1]))
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        m = re.match(r"BM_Model_statiq_(f32|int8)/fmnist/batch:(\d+)", b.get("run_name", b["name"]))
        if not m:
            continue
        if b.get("error_occurred"):
            raise SystemExit(f"report: {b['name']}: {b.get('error_message')}")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        batch = int(m.group(2))
        key = (m.group(1), batch)
        if key in runs and b.get("run_type") != "aggregate":
            continue  # a repetition: the median aggregate is used
        runs[key] = {"us_per_image": b["cpu_time"] * scale / batch, "wall_us_per_image": b["real_time"] * scale / batch,
                     "accuracy": b.get("accuracy"), "arena_bytes": b.get("arena_bytes"), "weight_bytes": b.get("weight_bytes")}
    for k, v in best.items():
        if k in runs:
            runs[k]["best_us_per_image"], runs[k]["best_wall_us_per_image"] = v
    return runs, d.get("context", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("statiq")
    ap.add_argument("ort")
    ap.add_argument("torch")
    ap.add_argument("--out")
    ap.add_argument("--machine", default="")
    a = ap.parse_args()

    st, context = statiq_rows(a.statiq)
    ort = json.load(open(a.ort))
    pt = json.load(open(a.torch))

    rows = []  # (label, {batch: (cpu, wall)}, accuracy, note, {batch: (best cpu, best wall)})
    def add(label, get, acc, note=""):
        rows.append((label, {b: get(b, False) for b in BATCHES}, acc, note, {b: get(b, True) for b in BATCHES}))

    def st_get(kind):
        def g(b, best):
            r = st.get((kind, b))
            if not r:
                return None
            if best:
                return (r.get("best_us_per_image", r["us_per_image"]), r.get("best_wall_us_per_image", r["wall_us_per_image"]))
            return (r["us_per_image"], r["wall_us_per_image"])
        return g

    def ext_get(res, kind):
        def g(b, best):
            r = res["models"][kind]["batch"].get(str(b))
            if not r:
                return None
            if best:
                return (min(r["repetitions_cpu_us_per_image"]), min(r["repetitions_wall_us_per_image"]))
            return (r["us_per_image"], r["wall_us_per_image"])
        return g

    add("statiq int8 (u8/s8)", st_get("int8"), st.get(("int8", 1), {}).get("accuracy"),
        f"arena {st.get(('int8', 1), {}).get('arena_bytes', 0):.0f} B (batch 64: {st.get(('int8', 64), {}).get('arena_bytes', 0):.0f} B), "
        f"weights {st.get(('int8', 1), {}).get('weight_bytes', 0):.0f} B")
    add("statiq float", st_get("f32"), st.get(("f32", 1), {}).get("accuracy"),
        f"arena {st.get(('f32', 1), {}).get('arena_bytes', 0):.0f} B (batch 64: {st.get(('f32', 64), {}).get('arena_bytes', 0):.0f} B), "
        f"weights {st.get(('f32', 1), {}).get('weight_bytes', 0):.0f} B")
    def engine_note(kind):
        e = [ort["models"][kind]["batch"].get(str(b), {}).get("engine_us_per_image") for b in BATCHES]
        return "ORT-profiler model_run (wall, profiling on): " + " / ".join(f"{v:.1f}" if v else "n/a" for v in e) + " us; "

    add(f"ORT {ort['version']} fp32", ext_get(ort, "fp32"), ort["models"]["fp32"]["accuracy"],
        engine_note("fp32") + "fmnist_cnn_fused.onnx")
    int8_ok = ort.get("int8_kernels_are_quantized")
    kern = ort["models"]["int8"]["batch"][str(BATCHES[-1])].get("kernels", {})
    add(f"ORT {ort['version']} int8 QDQ", ext_get(ort, "int8"), ort["models"]["int8"]["accuracy"],
        engine_note("int8") + "ran " + ", ".join(sorted(kern)) + ("" if int8_ok else "  (NOT int8 kernels!)"))
    add(f"PyTorch {pt['version']} float", ext_get(pt, "float"), pt["models"]["float"]["accuracy"], "BN folded, eval")
    add(f"PyTorch {pt['version']} int8", ext_get(pt, "int8"), pt["models"]["int8"]["accuracy"],
        f"FX PTQ, {pt['quantized_engine']}")

    def fmt(v, i):
        return f"{v[i]:9.1f}" if v else "      n/a"

    lines = []
    if a.machine:
        lines.append(a.machine)
    lines.append("Fashion-MNIST CNN, one thread, us per image")
    lines.append("median repetition (best repetition in [ ]), CPU time (wall-clock time)")
    lines.append(f"{'engine':28s} {'batch 1':>30s} {'batch 64':>30s} {'accuracy':>9s}  notes")
    for label, t, acc, note, tb in rows:
        cells = [f"{fmt(t[b], 0)} [{fmt(tb[b], 0).strip():>6s}] ({fmt(t[b], 1).strip():>6s})" for b in BATCHES]
        accs = f"{100 * acc:8.2f}%" if acc is not None else "      n/a"
        lines.append(f"{label:28s} {cells[0]:>30s} {cells[1]:>30s} {accs}  {note}")

    def ratio(num, den, b, i, best=False):
        col = 4 if best else 1
        n, d = dict((r[0], r[col]) for r in rows)[num][b], dict((r[0], r[col]) for r in rows)[den][b]
        return d[i] / n[i] if n and d else float("nan")

    labels = [r[0] for r in rows]
    s8, ortf, ptq = labels[0], labels[2], labels[5]
    r1 = (ratio(s8, ortf, 64, 0), ratio(s8, ortf, 64, 1))
    r2 = (ratio(s8, ptq, 1, 0), ratio(s8, ptq, 1, 1))
    lines.append("")
    b1 = ratio(s8, ortf, 64, 0, True)
    b2 = ratio(s8, ptq, 1, 0, True)
    lines.append(f"statiq int8 vs ORT fp32, batch 64:     {r1[0]:6.2f}x faster (best reps {b1:.2f}x, wall {r1[1]:.2f}x)   "
                 f"goal >= 3x: {'met' if r1[0] >= 3 else 'NOT met'}")
    lines.append(f"statiq int8 vs PyTorch int8, batch 1:  {r2[0]:6.2f}x faster (best reps {b2:.2f}x, wall {r2[1]:.2f}x)   "
                 f"goal >= 10x: {'met' if r2[0] >= 10 else 'NOT met'}")
    others = [(f"statiq int8 vs statiq float, batch {b}", ratio(s8, labels[1], b, 0)) for b in BATCHES]
    others += [(f"statiq int8 vs ORT int8, batch {b}", ratio(s8, labels[3], b, 0)) for b in BATCHES]
    for name, v in others:
        lines.append(f"{name + ':':39s}{v:6.2f}x")
    lines.append(f"accuracy, int8 minus float: statiq {100 * (rows[0][2] - rows[1][2]):+.2f} pp, ORT "
                 f"{100 * (rows[3][2] - rows[2][2]):+.2f} pp, PyTorch {100 * (rows[5][2] - rows[4][2]):+.2f} pp")
    print("\n".join(lines))
    if a.out:
        json.dump({"machine": a.machine, "statiq_context": context,
                   "rows": [{"engine": l, "us_per_image": {str(b): (t[b][0] if t[b] else None) for b in BATCHES},
                             "wall_us_per_image": {str(b): (t[b][1] if t[b] else None) for b in BATCHES},
                             "best_us_per_image": {str(b): (tb[b][0] if tb[b] else None) for b in BATCHES},
                             "accuracy": acc, "notes": n} for l, t, acc, n, tb in rows],
                   "ratios": {"statiq_int8_vs_ort_fp32_batch64": r1[0], "statiq_int8_vs_torch_int8_batch1": r2[0],
                              "best_reps": {"statiq_int8_vs_ort_fp32_batch64": b1, "statiq_int8_vs_torch_int8_batch1": b2}}},
                  open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
