"""Task environments written for pomdpbench and the wrappers that build the others."""
