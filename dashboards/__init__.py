"""The Streamlit app for marketers (read-only)."""
