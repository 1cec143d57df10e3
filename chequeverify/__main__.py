import sys

from chequeverify.cli import main

sys.exit(main())
