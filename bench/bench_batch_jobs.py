"""Large jobs: images a minute against the stand-in Space, and Ray's overhead against the in-process loop.

1. The stand-in Space serving 1, 2 and 4 jobs at once (its workers), each image taking about 0.6 s
   (``[slow]``, one step), driven by ``run_batch`` with concurrency 1, 2 and 4: images a minute,
   and each against concurrency 2 (the default) on the same Space.
2. The tests' tiny random-weight pipeline on the CPU (no GPU here: the GPU measurement is skipped),
   ``--images`` images in-process (one pipeline) against Ray with 2 local actors, once Ray has
   started; how long Ray takes to start is printed on its own.

Run:  python bench/bench_batch_jobs.py [--space-images 12] [--images 200] [--skip-space] [--skip-ray]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.servers import start_standin, stop

import flux_widget


def space_rows(count: int) -> None:
    print(f"{count} images of ~0.6 s each against the stand-in Space, images a minute:")
    for workers in (1, 2, 4):
        with tempfile.TemporaryDirectory() as tmp:
            process, url = start_standin(Path(tmp), "--concurrency", str(workers))
            try:
                flux_widget.generate("warm up", space=url, width=256, height=256, steps=1)
                rates = {}
                for concurrency in (1, 2, 4):
                    prompts = [f"[slow] job {n} c{concurrency}" for n in range(count)]
                    report = flux_widget.run_batch(prompts, Path(tmp) / f"c{concurrency}", space=url, width=256,
                                                   height=256, steps=1, seed=1, concurrency=concurrency,
                                                   progress=False)  # fmt: skip
                    assert report.done == count, report
                    rates[concurrency] = report.images_per_minute
            finally:
                stop(process)
        cells = "  ".join(f"concurrency {c}: {rate:6.1f} ({rate / rates[2]:4.2f}×)" for c, rate in rates.items())
        print(f"  Space with {workers} worker(s)  {cells}")


def ray_rows(count: int) -> None:
    import ray
    import torch
    from support.tiny_pipelines import save_tiny_flux

    if torch.cuda.is_available():
        print("A GPU is here, but this benchmark measures the CPU tiny pipeline only.")
    else:
        print("No GPU: the GPU measurement is skipped; the tiny pipeline on the CPU instead.")
    with tempfile.TemporaryDirectory() as tmp:
        model = str(save_tiny_flux(Path(tmp) / "tiny"))
        options = {"backend": "local", "model": model, "device": "cpu", "width": 64, "height": 64, "steps": 2}
        prompts = [f"a red fox {n}" for n in range(count)]
        flux_widget.run_batch(["warm up"], Path(tmp) / "warm", progress=False, **options)  # loads the pipeline
        begin = time.perf_counter()
        here = flux_widget.run_batch(prompts, Path(tmp) / "here", seed=1, progress=False, **options)
        in_process = time.perf_counter() - begin
        begin = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter() - begin
        flux_widget.run_batch(["warm up"], Path(tmp) / "ray-warm", engine="ray", workers=2, progress=False, **options)
        begin = time.perf_counter()
        there = flux_widget.run_batch(prompts, Path(tmp) / "ray", seed=1, engine="ray", workers=2, progress=False,
                                      **options)  # fmt: skip
        on_ray = time.perf_counter() - begin
        ray.shutdown()
    assert here.done == there.done == count
    print(f"{count} images, 64×64, 2 steps, tiny pipeline, CPU (2 cores):")
    print(f"  in-process, one pipeline       {in_process:6.2f} s  {60 * count / in_process:7.1f} images a minute")
    print(f"  Ray, 2 local actors            {on_ray:6.2f} s  {60 * count / on_ray:7.1f} images a minute"
          f"  ({on_ray / in_process:4.2f}× the in-process time)")  # fmt: skip
    print(f"  Ray's start (ray.init)         {started:6.2f} s, and the actors' first load in the warm-up run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space-images", type=int, default=12)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--skip-space", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    if not args.skip_space:
        space_rows(args.space_images)
    if not args.skip_ray:
        ray_rows(args.images)


if __name__ == "__main__":
    main()
