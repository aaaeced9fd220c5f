"""Measurements made by running agents through the harness's evaluation.

Training diagnostics (``pomdpbench diagnose``) and the scripted point-mass oracle that measures
the memory suite's ``target`` scores.
"""
