"""chequeverify: handwritten signature verification on scanned cheques.

Layers (see DESIGN.md): ``imaging``, ``model``, ``storage``, ``policy`` and
``reports`` are independent cores; ``service`` combines them; ``cli`` and
``gui`` sit on top; ``training`` is offline and only reached from the CLI.
"""

__version__ = "0.1.0"
