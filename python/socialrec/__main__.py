"""python -m socialrec"""
import sys

from .cli import main

sys.exit(main())
