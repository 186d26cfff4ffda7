"""The ``deja`` command line: a thin layer over golden/, hw/, sim/ and synth/."""
