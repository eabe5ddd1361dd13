"""Type stub of the compiled module ``socialrec._cuda`` (pybind11): its functions are looked up by name and
typed ``Any``; the Python layer around them carries the annotations."""
from typing import Any

def __getattr__(name: str) -> Any: ...
