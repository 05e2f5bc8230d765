"""The main job on real input: train, register and verify in a throwaway registry.

``demo/run_demo.py`` is the entry point (``make demo``); ``sandbox`` isolates the
git and signing setup, ``training`` contains the data and model steps.
"""
