"""Statistics over stored runs: normalization, rliable aggregates and plots."""
