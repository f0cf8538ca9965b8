"""Start ftbench's worker (worker.py) with its bytecode cached beside it.

Run as a script, worker.py would be compiled from source by every worker process (about 8 ms of
a 40 ms start): an interpreter never caches its main script, and ftbench runs it with -B.
Imported from here, it is compiled once per run into ftbench's own script directory. Only that
import may write bytecode; everything else keeps the interpreter's -B.
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    import worker

    sys.dont_write_bytecode = dont_write
    worker.run_main()
