"""The operators' review console: a Streamlit app over the published review file that publishes decisions."""
