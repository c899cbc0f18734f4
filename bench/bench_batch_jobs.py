"""Large jobs: images a minute against the stand-in Space, and Ray's overhead against the in-process loop.

1. The stand-in Space serving 1, 2 and 4 jobs at once (its workers), each image taking about 0.6 s
   (``[slow]``, one step), driven by ``run_batch`` with concurrency 1, 2 and 4: images a minute,
   and each against concurrency 2 (the default) on the same Space.
2. The tests' tiny random-weight pipeline on the CPU (no GPU here: the GPU measurement is skipped),
   ``--images`` images in-process (one pipeline) against Ray with 2 local actors, once Ray has
   started; how long Ray takes to start is printed on its own. The actors write their own files;
   the way that replaced (actors return the bytes, the driver writes) is timed in the same run.
3. The engine alone (issue 30): ``run_batch`` with the instant backend (``backend=`` a ready object,
   a 64×64 PNG per call, concurrency 4) at ``--scale`` prompt counts (1k, 10k, 100k by default; add
   1000000 for the full figure), each in its own process on a tmpfs folder: the engine's cost per
   image, the process's peak memory, and how long resuming the finished folder takes; the largest
   count's cost per image against the smallest's.

Run:  python bench/bench_batch_jobs.py [--space-images 12] [--images 200] [--skip-space] [--skip-ray]
      [--scale 1000 10000 100000] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import subprocess
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
        driver_writes = driver_side(ray, model, prompts, Path(tmp) / "driver")
        ray.shutdown()
    assert here.done == there.done == count
    print(f"{count} images, 64×64, 2 steps, tiny pipeline, CPU (2 cores):")
    print(f"  in-process, one pipeline       {in_process:6.2f} s  {60 * count / in_process:7.1f} images a minute")
    print(f"  Ray, 2 local actors            {on_ray:6.2f} s  {60 * count / on_ray:7.1f} images a minute"
          f"  ({on_ray / in_process:4.2f}× the in-process time)")  # fmt: skip
    print(f"  Ray's start (ray.init)         {started:6.2f} s, and the actors' first load in the warm-up run")
    print(f"  Ray, the driver writing files  {driver_writes:6.2f} s  {60 * count / driver_writes:7.1f} images a minute"
          f"  (the engine's actors writing their own: {driver_writes / on_ray:4.2f}× its throughput)")  # fmt: skip


def driver_side(ray: object, model: str, prompts: list[str], out: Path) -> float:
    """The way the engine replaced, timed the same way (from the actors' start): 2 actors return each
    image's bytes, and the driver writes every file and line (two calls in flight per actor); the seconds."""
    from flux_widget.backends.local._backend import LocalBackend
    from flux_widget.folders._manifest import Manifest
    from flux_widget.jobs._engine import record_done
    from flux_widget.jobs._prompt_files import iter_jobs, iter_prompts

    class Returning:
        def __init__(self) -> None:
            self.backend = LocalBackend(model, device="cpu")
            self.backend.load()

        def make(self, request: object) -> object:
            return self.backend.generate_here(request)

    jobs = list(iter_jobs(iter_prompts(prompts), seed=1, width=64, height=64, steps=2))
    begin = time.perf_counter()  # as run_batch is timed: the actors' start and pipeline loads included
    actors = [ray.remote(num_cpus=1)(Returning).remote() for _ in range(2)]  # type: ignore[attr-defined]
    manifest = Manifest(out)
    waiting, flying = list(reversed(jobs)), {}
    for actor in actors * 2:
        job = waiting.pop()
        flying[actor.make.remote(job.request)] = (job, actor)
    while flying:
        [ready], _ = ray.wait(list(flying), num_returns=1)  # type: ignore[attr-defined]
        job, actor = flying.pop(ready)
        if waiting:
            following = waiting.pop()
            flying[actor.make.remote(following.request)] = (following, actor)
        record_done(manifest, job, ray.get(ready), "local", 0.0)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - begin
    for actor in actors:
        ray.kill(actor)  # type: ignore[attr-defined]
    return seconds


SCALE_RUN = """
import json, resource, sys, time
sys.path.insert(0, {tests!r})
from support.instant_backend import InstantBackend
import flux_widget
count, out = {count}, {out!r}
prompts = (f"prompt number {{n}}" for n in range(count))
begin = time.perf_counter()
report = flux_widget.run_batch(prompts, out, backend=InstantBackend(), seed=1, concurrency=4, progress=False)
made = time.perf_counter() - begin
begin = time.perf_counter()
again = flux_widget.run_batch((f"prompt number {{n}}" for n in range(count)), out, backend=InstantBackend(), seed=1,
                              concurrency=4, progress=False)
resumed = time.perf_counter() - begin
assert report.done == count and again.skipped == count, (report, again)
print(json.dumps({{"per_image": made / count, "resume": resumed,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def scale_rows(counts: list[int]) -> None:
    """The engine's cost per image, peak memory and resume time at each prompt count (instant backend)."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None  # tmpfs: the disk's speed is not measured
    print("The engine alone: run_batch with the instant backend (a 64×64 PNG per call), concurrency 4:")
    figures = {}
    for count in counts:
        with tempfile.TemporaryDirectory(dir=shm) as tmp:
            code = SCALE_RUN.format(tests=tests, count=count, out=str(Path(tmp) / "out"))
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            figures[count] = json.loads(done.stdout.strip().splitlines()[-1])
        row = figures[count]
        print(f"  {count:>9,} prompts  {1000 * row['per_image']:6.2f} ms an image  peak {row['peak']:7.0f} MB"
              f"  resume (nothing left) {row['resume']:7.2f} s")  # fmt: skip
    smallest, largest = figures[min(counts)], figures[max(counts)]
    print(f"  cost per image at {max(counts):,} against {min(counts):,}: "
          f"{largest['per_image'] / smallest['per_image']:4.2f}× (flat would be 1.00×, within 1.20×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space-images", type=int, default=12)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--skip-space", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--scale", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    if not args.skip_scale:
        scale_rows(args.scale)
    if not args.skip_space:
        space_rows(args.space_images)
    if not args.skip_ray:
        ray_rows(args.images)


if __name__ == "__main__":
    main()
