"""Raw Human3.6M mocap (S*/MyPoseFeatures/D3_Positions/*.cdf) -> data_3d_h36m.npz and data_2d_h36m_gt.npz.

Usage: python data_prep/convert_h36m_cdf.py /path/to/Human3.6M [--out data] [--no-gt]
Run from the repository root with the kit installed (`make install`); the work is done by
`finepose.formats` through `finepose.datacheck.cli_data` (the same as `finepose data convert-cdf ...`).
"""
import sys

from finepose.datacheck import cli_data

if __name__ == "__main__":
    sys.exit(cli_data(["convert-cdf", *sys.argv[1:]]))
