import sys

from larq_compute.cli import main

sys.exit(main())
