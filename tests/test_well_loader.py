"""Files written by wellforge load in the Well's own loader (optional extra: the-well)."""

import pytest

from wellforge.schema.synthetic import write_dataset

from .well_loader import assert_loads_in_well, require_well

pytestmark = pytest.mark.well
require_well()


def test_synthetic_dataset_loads_in_welldataset(tmp_path):
    root = write_dataset(str(tmp_path / "synthetic"), n_traj=2, n_time=5)
    # 2 files × 2 trajectories × (5 - 1) windows (1 input + 1 output step) per split
    assert assert_loads_in_well(root) == 3 * 2 * 2 * 4

