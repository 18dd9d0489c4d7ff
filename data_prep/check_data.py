"""Validate data files or folders and print a summary (exit 1 with one message on a fault).

Usage: python data_prep/check_data.py data/ [more files or folders]
Run from the repository root with the kit installed (`make install`); the work is done by
`finepose.formats` through `finepose.datacheck.cli_data` (the same as `finepose data check ...`).
"""
import sys

from finepose.datacheck import cli_data

if __name__ == "__main__":
    sys.exit(cli_data(["check", *sys.argv[1:]]))
