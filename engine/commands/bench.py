"""``innerloop-cli bench``: measured speed of the MAML step, task sampling and the data loader."""

from __future__ import annotations

import argparse
import os

from engine.bench.args import check_repeats, check_seconds
from engine.commands.json_out import print_json
from engine.runtime.allocator import keep_freed_memory
from engine.runtime.cpu_threads import THREADS_HELP, governor_for


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmarks (MAML step vs the per-task loop, sampling, data)")
    p.add_argument(
        "what",
        nargs="*",
        default=["maml", "sampling"],
        choices=("maml", "sampling", "data", "contention", "memory"),
        help="what to measure (default: maml sampling): the MAML step, task sampling, decoding "
        "Omniglot, threads under a busy core, peak memory of first vs second order",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="contention: seconds per measurement")
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    p.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="auto: CUDA when torch sees a GPU, else the CPU (default: %(default)s)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="maml: timed rounds per case, the paths taking turns in each (default: %(default)s)",
    )
    p.add_argument("--steps-list", default="1,5,10,20", help="memory: inner step counts K, comma-separated")
    p.add_argument(
        "--data-dir",
        default=None,
        help="Omniglot folder or zip (default: $INNERLOOP_DATA, then, for sampling, the user cache)",
    )
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.run.training import resolve_device

    check_repeats(args.repeats)
    check_seconds(args.seconds)
    governor = governor_for(args.threads)
    device = resolve_device(args.device)
    if "contention" not in args.what:  # the contention bench sizes threads itself, quiet and loaded
        governor.choose()
    results: dict[str, list | dict] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "device": str(device),
            "allocator": keep_freed_memory(),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        }
    }
    if "maml" in args.what:
        from engine.bench.maml import CASES, bench_maml

        rows = results["maml"] = []
        if not args.json:
            print(f"torch threads {torch.get_num_threads()}; {results['machine']['allocator']}")
        for case in CASES:
            for first_order in (False, True):
                rows.append(bench_maml(case, first_order=first_order, device=device, repeats=args.repeats))
                if not args.json:
                    r = rows[-1]
                    print(
                        f"{r['case']:<42} {r['order']:>6}-order  vmap {r['vmap_ms']:7.1f}  "
                        f"task-loop {r['task_loop_ms']:7.1f}  shared by {r['loop_task_threads']} threads "
                        f"{r['task_loop_shared_ms']:7.1f}  reference loop {r['reference_loop_ms']:7.1f} ms"
                        f"  → {r['chosen']}: {r['chosen_ms']:.1f} ms, ×{r['speedup']:.2f}",
                        flush=True,
                    )
    if "memory" in args.what:
        from engine.bench.memory import bench_memory, print_table
        from engine.commands.metagrad_checkpoint import _steps_list

        results["memory"] = bench_memory(_steps_list(args.steps_list))
        if not args.json:
            print_table(results["memory"])
    if "sampling" in args.what:
        from engine.bench.sampling import bench_sampling
        from engine.core.errors import UserError
        from engine.data.sources import make_sampler

        rows = results["sampling"] = []
        for dataset, protocol in (("glyphs", "glyphs"), ("omniglot", "finn")):
            try:
                sampler = make_sampler(
                    dataset, protocol=protocol, ways=5, shots=1, queries=15, data_dir=args.data_dir
                )
            except UserError as exc:
                rows.append({"dataset": dataset, "skipped": str(exc)})
                continue
            for batch in (1, 32):
                rate = bench_sampling(sampler, batch, 1.5)
                rows.append(
                    {
                        "dataset": dataset,
                        "protocol": protocol,
                        "task": "5w1s15q",
                        "batch": batch,
                        "tasks_per_second": round(rate),
                    }
                )
                if not args.json:
                    print(
                        f"sampling {dataset}/{protocol} 5-way 1-shot 15-query, {batch:2d} per call: "
                        f"{rate:10,.0f} tasks/s",
                        flush=True,
                    )
    if "data" in args.what:
        from engine.core.errors import ConfigError
        from engine.data.bench_data import bench_omniglot

        data_dir = args.data_dir or os.environ.get("INNERLOOP_DATA")
        if not data_dir:
            raise ConfigError(
                "bench data needs --data-dir or INNERLOOP_DATA (it decodes into a fresh temp cache)"
            )
        results["data"] = bench_omniglot(data_dir)
        if not args.json:
            d = results["data"]
            print(
                f"omniglot first decode {d['first_load_s']:.2f} s, cached load {d['cached_load_s']:.3f} s "
                f"({d['images']} images)"
            )
    if "contention" in args.what:
        from engine.bench.contention import bench_contention

        c = results["contention"] = bench_contention(args.seconds)
        if not args.json:
            print(
                f"contention, {c['task']}, {c['cores']} cores:\n"
                f"  quiet, {c['default_threads']} threads:            {c['quiet_it_per_s']:.3f} it/s\n"
                f"  one busy process, {c['default_threads']} threads: "
                f"{c['loaded_default_it_per_s']:.3f} it/s (×{c['ratio_default']:.2f} of quiet)\n"
                f"  one busy process, governed ({c['governed_threads']}): "
                f"{c['loaded_governed_it_per_s']:.3f} it/s (×{c['ratio_governed']:.2f} of quiet; "
                f"{c['governor_reason']})"
            )
    if args.json:
        print_json(results)
    return 0
