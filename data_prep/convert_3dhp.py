"""MPI-INF-3DHP official test set (TS1..TS6/annot_data.mat) -> data_test_3dhp_ori.npz.

Usage: python data_prep/convert_3dhp.py /path/to/mpi_inf_3dhp_test_set [--out data/data_test_3dhp_ori.npz]
Run from the repository root with the kit installed (`make install`); the work is done by
`finepose.formats` through `finepose.datacheck.cli_data` (the same as `finepose data convert-3dhp ...`).
"""
import sys

from finepose.datacheck import cli_data

if __name__ == "__main__":
    sys.exit(cli_data(["convert-3dhp", *sys.argv[1:]]))
