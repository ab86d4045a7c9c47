"""Execute one notebook headlessly with Jupyter's nbclient; used by `npm run notebooks`.

    python3 jupyter/execute_notebook.py IN.ipynb OUT.ipynb --timeout SECONDS [--kernel tslab]

Writes OUT.ipynb (executed, possibly partially) in every case, prints one JSON
line per cell start ({"cell": i}) so the caller can tell which cell was running,
and exits 0 when every cell ran, 2 when a cell failed and 3 when the notebook
ran past its time limit, 4 when the kernel died (a crash in native code, out of
memory). The kernel spec is found through JUPYTER_PATH (the
caller points it at the repo's jupyter/ folder).
"""
import argparse
import json
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('input')
    ap.add_argument('output')
    ap.add_argument('--timeout', type=float, required=True, help='seconds for the whole notebook')
    ap.add_argument('--kernel', default='tslab')
    args = ap.parse_args()

    nb = nbformat.read(args.input, as_version=4)
    deadline = time.monotonic() + args.timeout
    client = NotebookClient(nb, timeout=int(args.timeout), kernel_name=args.kernel,
                            startup_timeout=120, record_timing=True)

    def on_cell_start(cell, cell_index):
        # The per-cell limit is what is left of the notebook's budget.
        client.timeout = max(1, int(deadline - time.monotonic()))
        print(json.dumps({'cell': cell_index}), flush=True)

    client.on_cell_start = on_cell_start
    status = 0
    try:
        client.execute()
    except CellTimeoutError:
        status = 3
    except CellExecutionError:
        status = 2
    except DeadKernelError:
        status = 4
    finally:
        nbformat.write(nb, args.output)
    return status


if __name__ == '__main__':
    sys.exit(main())
