"""deja bench: throughput figures measured in one run (ratios, never a timed test)."""

from golden.bench import bench_golden

from .common import CLIError, table


def add_parser(sub):
    p = sub.add_parser("bench", help="benchmarks: golden model vs dense float")
    p.add_argument("target", choices=["golden"], help="what to benchmark")
    p.add_argument("--frames", type=int, default=100, help="frames in the sequence (default 100)")
    p.add_argument("--similarity", type=float, default=0.5, help="input similarity (default 0.5)")
    return p


def run(args):
    if not 0.0 <= args.similarity <= 1.0:
        raise CLIError(f"--similarity {args.similarity}: allowed 0..1")
    if args.frames < 2:
        raise CLIError(f"--frames {args.frames}: allowed 2 or more")
    result = bench_golden(similarity=args.similarity, frames=args.frames)
    if not args.json:
        print(f"{result['layer']}, {result['clusters']} clusters, similarity "
              f"{result['similarity_measured']:.1%} measured\n")
        print(table([
            ["golden reuse model, sequence (FCEngine.run)", f"{result['golden_frames_per_second']:.0f}"],
            ["golden reuse model, frame by frame (FCEngine.step)",
             f"{result['golden_step_frames_per_second']:.0f}"],
            ["dense NumPy float32, frame by frame", f"{result['dense_float32_frames_per_second']:.0f}"],
            ["dense NumPy float32, all frames in one matmul",
             f"{result['dense_float32_batched_frames_per_second']:.0f}"],
        ], ["", "frames/s"]))
        print(f"\ngolden / dense frame by frame: {result['ratio_golden_over_dense']:.2f}   "
              f"golden / dense batched: {result['ratio_golden_over_dense_batched']:.2f}")
    return result
