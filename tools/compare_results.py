"""One command from the output tree to the comparison table.

    python tools/compare_results.py output                      # base-to-new, terminal table
    python tools/compare_results.py output --format markdown --out results.md --paper
    python tools/compare_results.py output --protocol cross_dataset --format csv --out xd.csv
    python tools/compare_results.py output --plot hm.png --seeds 1 2 3
    python tools/compare_results.py output --spread --format markdown   # mean ± sd over seeds

Per method (TRAINER/TAG and shots) and dataset it shows the mean over seeds, how many seeds were
found, and an average row; missing runs are marked and listed, never averaged silently, and so
are runs that do not belong with the others (another dataset, other options, a NaN result).

Mistakes in the arguments end in one ``Error:`` line before any run is read; ``--out`` and
``--plot`` must name a file in an existing folder (a mistyped folder is not created).
"""

import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from run.atomic_files import write_text_atomic  # noqa: E402
from run.tool_cli import ToolArgumentParser, refuse, reports_user_errors  # noqa: E402
from tools.results.aggregate import STD_KINDS, MixedCLIPs, NoRunsFound, summarize  # noqa: E402
from tools.results.plot import PLOT_FORMATS  # noqa: E402
from tools.results.protocols import PROTOCOLS  # noqa: E402
from tools.results.published import PUBLISHED_CSV, load_published  # noqa: E402
from tools.results.table import RENDERERS, SD_LABELS, build_table  # noqa: E402

FORMAT_OF_SUFFIX = {".md": "markdown", ".markdown": "markdown", ".csv": "csv"}


def parse_args(argv=None):
    parser = ToolArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_root", help="the scripts' OUTPUT folder (default layout: output/)")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="base2new")
    parser.add_argument(
        "--format",
        choices=sorted(RENDERERS),
        default=None,
        help="table (default), markdown or csv; default from --out's suffix",
    )
    parser.add_argument("--out", help="write the table to this file instead of stdout")
    parser.add_argument("--plot", help="also draw a grouped bar chart (HM for base2new) to a PNG")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[1, 2, 3],
        help="seeds every run is expected to have (default: 1 2 3)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help="expected datasets (targets for cross_dataset/domain_generalization); "
        "default: the protocol's standard list",
    )
    parser.add_argument(
        "--metric",
        default="accuracy",
        help="result.json key / log keyword to tabulate (default: accuracy)",
    )
    parser.add_argument(
        "--paper", action="store_true", help="add the published rows and ours-minus-paper rows"
    )
    parser.add_argument("--published", default=PUBLISHED_CSV, help="published-results CSV")
    parser.add_argument(
        "--spread",
        action="store_true",
        help="show each number as mean ± standard deviation over seeds (--std; CSV: a "
        "'<column> sd' column beside it). A dataset's sd is over its per-seed values (HM: the "
        "HM of each seed's Base and New); the Average row's sd is over the per-seed averages "
        "over datasets (HM: of each seed's averaged Base and New). Needs two or more --seeds",
    )
    parser.add_argument(
        "--std",
        choices=STD_KINDS,
        default="population",
        help="--spread's standard deviation: population (divides by n; numpy's default and "
        "parse_test_res.py's, as CoOp) or sample (divides by n - 1). Default: population",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a seed or dataset is missing"
    )
    return parser.parse_args(argv)


def _resolve_root(output_root, protocol):
    """Accept both OUTPUT and OUTPUT/<protocol>."""
    root = os.path.normpath(output_root)
    return os.path.dirname(root) if os.path.basename(root) == protocol else root


def _check_output_file(option, path):
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    refuse(os.path.isdir(path), f'{option} "{path}" is a folder: give a file name in it')
    refuse(
        not os.path.isdir(folder),
        f'{option} "{path}": the folder {folder} does not exist (create it first)',
    )


def check_args(args):
    """Every argument mistake, before any run is read."""
    refuse(
        not os.path.isdir(args.output_root),
        f'"{args.output_root}" is not a folder: give the OUTPUT folder the scripts wrote to',
    )
    refuse(
        any(seed < 0 for seed in args.seeds) or len(set(args.seeds)) != len(args.seeds),
        f"--seeds {' '.join(map(str, args.seeds))}: give distinct seeds >= 0",
    )
    refuse(
        args.spread and len(args.seeds) < 2,
        f"--spread needs at least two --seeds (got {' '.join(map(str, args.seeds))}): a spread "
        "over one seed is not defined",
    )
    refuse(
        args.paper and not os.path.isfile(args.published),
        f'--published "{args.published}" is not a file',
    )
    _check_output_file("--out", args.out)
    _check_output_file("--plot", args.plot)
    refuse(
        args.plot is not None
        and (os.path.splitext(args.plot)[1][1:].lower() or "png") not in PLOT_FORMATS,
        f'--plot "{args.plot}": give a .png, .pdf or .svg file',
    )


@reports_user_errors
def main(argv=None):
    args = parse_args(argv)
    check_args(args)
    output_format = args.format or FORMAT_OF_SUFFIX.get(
        os.path.splitext(args.out or "")[1].lower(), "table"
    )
    protocol = PROTOCOLS[args.protocol]
    root = _resolve_root(args.output_root, protocol.name)
    try:
        summary = summarize(root, protocol, args.seeds, args.metric, args.datasets)
    except NoRunsFound as error:
        present = [
            name
            for name in sorted(PROTOCOLS)
            if os.path.isdir(os.path.join(root, name)) and name != protocol.name
        ]
        hint = f"; found {', '.join(present)}: pass --protocol" if present else ""
        print(f"Error: {error}{hint}", file=sys.stderr)
        return 2
    except MixedCLIPs as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    published = load_published(args.published) if args.paper else None
    table = build_table(summary, published, spread=args.spread, std=args.std)
    text = RENDERERS[output_format](table)
    if args.out:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if table.warnings and (output_format == "csv" or args.out):
        for warning in table.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.spread and output_format == "csv":  # the other formats say it in their notes
        print(f"note: the sd columns are the {SD_LABELS[args.std]} over seeds", file=sys.stderr)
    if args.plot:
        from tools.results.plot import plot_table

        plot_table(
            table,
            protocol.primary_column,
            args.plot,
            title=f"{protocol.name}: {protocol.primary_column} per dataset "
            "(hatched: missing seeds or datasets"
            + ("; bars: ± sd over seeds)" if args.spread else ")"),
        )
        print(f"wrote {args.plot}", file=sys.stderr)
    incomplete = any(row.flagged for row in table.rows if row.kind in ("dataset", "average"))
    return 1 if args.strict and incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
