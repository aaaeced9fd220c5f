"""The Streamlit leaderboard app, shipped as ``pomdpbench._leaderboard``."""
