import sys
from pathlib import Path

import pvlib
import pytest

ROOT = Path(__file__).resolve().parents[2]
# the project is not installed into the venv; make `import weather` work under plain pytest
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WEATHER_DIR = ROOT / "scenarios" / "data" / "weather"
PVLIB_DATA = Path(pvlib.__file__).parent / "data"


@pytest.fixture(scope="session")
def weather_dir() -> Path:
    return WEATHER_DIR


@pytest.fixture(scope="session")
def pvlib_data() -> Path:
    return PVLIB_DATA
