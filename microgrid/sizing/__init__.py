"""Native sizing: what to build, co-optimised with the dispatch and the training jobs.

`microgrid.sizing.run.size(scenario) -> SizingResult` (public as `microgrid.size`); the
modules: `costs` (annualisation, NPV), `assets` (the scenario's sizing section as typed
specs), `profiles` (per-MW PV and wind), `problems` (the sizing, fixed-size and
inflexible problems), `summary` (sizing.json, sizes.csv), `cli` (`microgrid size`).
Nothing is imported here, so the CLI's parser registration stays light.
"""
