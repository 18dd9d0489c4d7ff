"""Ground-truth 2D keypoints (pixels, 4 cameras) from data_3d_h36m.npz by projection through the calibrated cameras.

Usage: python data_prep/make_gt_2d.py data/data_3d_h36m.npz [--out data/data_2d_h36m_gt.npz]
Run from the repository root with the kit installed (`make install`); the work is done by
`finepose.formats` through `finepose.datacheck.cli_data` (the same as `finepose data make-gt ...`).
"""
import sys

from finepose.datacheck import cli_data

if __name__ == "__main__":
    sys.exit(cli_data(["make-gt", *sys.argv[1:]]))
