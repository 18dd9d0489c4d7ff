"""Unpacked 3d-pose-baseline archive (S*/MyPoses/3D_positions/*.h5, S*/StackedHourglass/*.h5) -> VideoPose3D files.

Usage: python data_prep/convert_h36m_archive.py /path/to/h36m [--out data] [--no-gt] [--keep-mpii]
Run from the repository root with the kit installed (`make install`); the work is done by
`finepose.formats` through `finepose.datacheck.cli_data` (the same as `finepose data convert-archive ...`).
"""
import sys

from finepose.datacheck import cli_data

if __name__ == "__main__":
    sys.exit(cli_data(["convert-archive", *sys.argv[1:]]))
